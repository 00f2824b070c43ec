"""Plans: the workload file, its traffic statistics, the simulated days, rate-limit demand, the estimate."""
