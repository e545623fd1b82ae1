package engine

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// clockSource describes the wall clock a start instant is read from: the
// kernel's clock source and whether NTP (or PTP) keeps it synchronised, with
// the kernel's estimate of its error.
func clockSource() string {
	src := "CLOCK_REALTIME"
	if b, err := os.ReadFile("/sys/devices/system/clocksource/clocksource0/current_clocksource"); err == nil {
		src += " (" + strings.TrimSpace(string(b)) + ")"
	}
	var tx unix.Timex
	state, err := unix.Adjtimex(&tx)
	switch {
	case err != nil:
		return src + ", synchronisation unknown"
	case state == unix.TIME_ERROR || tx.Status&unix.STA_UNSYNC != 0:
		return src + ", not synchronised (no NTP): shards may start apart by the clocks' offset"
	}
	return src + fmt.Sprintf(", synchronised, estimated error %dµs, maximum %dµs", tx.Esterror, tx.Maxerror)
}
