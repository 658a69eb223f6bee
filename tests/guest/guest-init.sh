#!/bin/busybox sh
# /init of the test guest (run-guest-suite fills in @SELFTEST@ and @PROBE@)
/bin/busybox --install -s /bin
export PATH=/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# no tmpfs on /tmp: the build tree may live there (it is copied at its host path)
echo "@@BEGIN@@ $(uname -r)"
if [ -n "@SELFTEST@" ]; then
	cd /tmp && /bin/reaper @SELFTEST@ > /tmp/selftest.log 2>&1
	src=$?
	tail -n 2 /tmp/selftest.log
	if [ $src = 0 ] && grep -q 'done (all tests OK)' /tmp/selftest.log; then
		echo "@@SELFTEST ok@@"
	else
		echo "@@SELFTEST fail rc=$src@@"
	fi
fi
echo "@@BACKEND $(@PROBE@ --json | sed -n 's/.*"backend": "\(.*\)".*/\1/p')@@"
run_test() {
	name=$1; wd=$2; to=$3
	shift 3
	start=$(date +%s)
	( cd "$wd" && timeout "$to" "$@" ) > /tmp/out 2>&1
	rc=$?
	head -c 20000 /tmp/out
	echo "@@TEST $name rc=$rc secs=$(( $(date +%s) - start ))@@"
}
. /tests.sh
echo "@@END@@"
poweroff -f
