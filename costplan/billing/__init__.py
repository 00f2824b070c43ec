"""The bill: price tables -> the rate schedule of a kind of request -> the exact cost of one usage.

Every rule that decides a bill lives here once: how usage is read, which period is in force, which
prompt-length tier a prompt falls in, the batch, regional and fast-mode factors, server-tool fees.
"""
