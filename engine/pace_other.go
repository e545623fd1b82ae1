//go:build !linux

package engine

import "time"

// wakeup does nothing outside Linux: there the runtime's poller waits with
// a finer timeout (kqueue, for one, takes nanoseconds).
type wakeup struct{}

func (w *wakeup) arm(time.Duration) {}
func (w *wakeup) close()            {}
