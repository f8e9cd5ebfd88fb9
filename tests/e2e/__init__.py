"""End-to-end tests: the real shopfloor command in tmux and as subprocesses, on real
devices (ptys, socat, ser2net, a tmpfs)."""
