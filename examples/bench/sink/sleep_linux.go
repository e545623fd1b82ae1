package main

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// sleeper waits precisely. time.Sleep on an idle Go process wakes up to a
// millisecond late, because the runtime's poller waits in epoll_wait with a
// timeout in whole milliseconds (measured here: a 10 ms sleep took 10.42 ms
// at the median). That overshoot would be counted against every generator
// the sink is used to compare. A timerfd read through the same poller wakes
// it within tens of microseconds instead. One sleeper per connection.
type sleeper struct {
	fd int
	f  *os.File // registered with the runtime's poller
}

func newSleeper() *sleeper {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return &sleeper{fd: -1}
	}
	return &sleeper{fd: fd, f: os.NewFile(uintptr(fd), "sink-sleep")}
}

func (s *sleeper) sleep(d time.Duration) {
	if s.f == nil {
		time.Sleep(d)
		return
	}
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	if err := unix.TimerfdSettime(s.fd, 0, &spec, nil); err != nil {
		time.Sleep(d)
		return
	}
	var buf [8]byte
	if _, err := s.f.Read(buf[:]); err != nil {
		time.Sleep(d)
	}
}

func (s *sleeper) close() {
	if s.f != nil {
		_ = s.f.Close()
	}
}
