//go:build !linux

package main

import "time"

// sleeper falls back to time.Sleep where there is no timerfd.
type sleeper struct{}

func newSleeper() *sleeper             { return &sleeper{} }
func (*sleeper) sleep(d time.Duration) { time.Sleep(d) }
func (*sleeper) close()                {}
