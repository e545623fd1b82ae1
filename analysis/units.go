package analysis

import "time"

// us converts a histogram value (microseconds) to a duration.
func us(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
