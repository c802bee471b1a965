#!/bin/sh
test_description='mlops drift: no false alarms on random half splits, detection of real shifts'
. "$TEST_SRCDIR/cli/lib.sh"
