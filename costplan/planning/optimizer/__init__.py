"""The parts of `costplan.optimize` (`costplan.planning.optimize`), one job each.

`levers` (what may change on a stream, and a workload with it changed), `fit` (the constraints a plan is
held to), `search` (combinations cheapest first, every one re-estimated in full), `tierfit` (usage tiers and
the minute a limit binds), `rewrite` (the plan as the user's own file, changed lines commented).

They sit apart from planning's own modules on purpose: those turn a workload into statistics in one place
(`planning.streams`) and never edit a workload, while the optimizer's job is to write new workloads, as a
user would, and hand each to `costplan.estimate`.
"""
