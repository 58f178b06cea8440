#!/bin/sh
# The kernel's own view of every epoll instance of PID, from
# /proc/PID/fdinfo: one line "EPFD: TFD TFD ..." per instance.
# POSIX sh: this also runs inside the busybox VM guests.
pid=$1
for fd in /proc/$pid/fdinfo/*; do
	n=${fd##*/}
	case "$(readlink "/proc/$pid/fd/$n" 2>/dev/null)" in
	*eventpoll*) ;;
	*) continue ;;
	esac
	printf '%s:' "$n"
	sed -n 's/^tfd: *\([0-9]*\).*/ \1/p' "$fd" | tr -d '\n'
	echo
done
