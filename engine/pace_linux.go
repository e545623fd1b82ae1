package engine

import (
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// wakeup makes an idle Go scheduler wake on time for the pacer's timer.
// The runtime's poller waits in epoll_wait, whose timeout is in whole
// milliseconds, so a timer under a millisecond away fires up to a
// millisecond late when nothing else is running. arm sets a timerfd, which
// is registered with the same poller, to expire at the same moment: when it
// does, epoll_wait returns, the scheduler runs its due timers and the pacer
// wakes within tens of microseconds. When the scheduler is busy it checks
// timers at every switch and the timerfd changes nothing.
//
// Two other ways were measured and rejected. Blocking the thread in
// nanosleep handed the pacer back to the scheduler through the global run
// queue and delayed it by up to 18 ms on one CPU; spinning with
// runtime.Gosched keeps the scheduler from polling the network.
type wakeup struct {
	once sync.Once
	fd   int
	f    *os.File // keeps fd registered with the runtime's poller
}

func (w *wakeup) arm(d time.Duration) {
	w.once.Do(func() {
		fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
		if err == nil {
			w.fd, w.f = fd, os.NewFile(uintptr(fd), "spike-pacer-timer")
		}
	})
	if w.f == nil {
		return
	}
	var buf [8]byte
	_, _ = unix.Read(w.fd, buf[:]) // clear an expiry left from the last wait
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	_ = unix.TimerfdSettime(w.fd, 0, &spec, nil)
}

func (w *wakeup) close() {
	if w.f != nil {
		_ = w.f.Close()
	}
}
