"""`costplan check`: limits from flags and budgets, the checks against an estimate, the verdict."""
