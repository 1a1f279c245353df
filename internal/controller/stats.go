package controller

import (
	"sync/atomic"
	"time"
)

// stats counts a controller's reconciles for /_overcast/metrics.
type stats struct {
	count  atomic.Int64
	errors atomic.Int64
	nanos  atomic.Int64
}

func (s *stats) observe(d time.Duration, err error) {
	s.count.Add(1)
	s.nanos.Add(int64(d))
	if err != nil {
		s.errors.Add(1)
	}
}
