//go:build !linux

package engine

// clockSource describes the wall clock a start instant is read from.
func clockSource() string { return "system wall clock, synchronisation unknown" }
