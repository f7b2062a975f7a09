"""The wire and the process: one MAME started, spoken to and stopped (the binary
protocol, the bridge over a pipe and ZeroMQ, its credentials, MAME's command line
and listings, save-state files, private working folders)."""
