package elbv2

import (
	"sync/atomic"
	"time"
)

// traffic counts requests as CloudWatch's AWS/ApplicationELB metrics
// need them, from the moment overcast starts: lock-free, on every request.
type traffic struct {
	requests     atomic.Int64
	target       [6]atomic.Int64 // answers of targets, by status class (2 is 2XX)
	elb          [6]atomic.Int64 // answers the load balancer made itself
	responseTime atomic.Int64    // nanoseconds, summed over the targets' answers
}

func (t *traffic) count(code int, fromTarget bool, d time.Duration) {
	t.requests.Add(1)
	class := code / 100
	if class < 1 || class > 5 {
		return
	}
	if fromTarget {
		t.target[class].Add(1)
		t.responseTime.Add(int64(d))
		return
	}
	t.elb[class].Add(1)
}

// TrafficStats are a load balancer's cumulative counts, since overcast
// started, for one of its target groups (or, with TargetGroup empty, for
// what it answered itself without one: fixed responses, redirects, 503s
// with no target), from which a CloudWatch publisher derives
// RequestCount, HTTPCode_Target_*_Count, HTTPCode_ELB_*_Count,
// TargetResponseTime, HealthyHostCount and UnHealthyHostCount by
// differences between two reads.
type TrafficStats struct {
	LoadBalancer, TargetGroup string // ARNs
	Requests                  int64
	// TargetResponses and ELBResponses count answers by status class:
	// index 2 is 2XX ... 5 is 5XX.
	TargetResponses, ELBResponses [6]int64
	// TargetResponseTime is summed over the targets' answers.
	TargetResponseTime time.Duration
	// HealthyHosts are the targets in service; UnhealthyHosts the
	// others registered (initial ones included).
	HealthyHosts, UnhealthyHosts int
}

// TrafficStats reads every load balancer's counters.
func (s *Service) TrafficStats() []TrafficStats {
	rt := s.plane.routes.Load()
	var out []TrafficStats
	for _, lb := range rt.byHost {
		out = append(out, lb.traffic.stats(lb.arn, ""))
		for _, g := range lb.groups {
			st := g.traffic.stats(lb.arn, g.arn)
			for _, t := range g.targets {
				if t.health.healthy.Load() {
					st.HealthyHosts++
				} else {
					st.UnhealthyHosts++
				}
			}
			out = append(out, st)
		}
	}
	return out
}

func (t *traffic) stats(lb, tg string) TrafficStats {
	st := TrafficStats{LoadBalancer: lb, TargetGroup: tg, Requests: t.requests.Load(), TargetResponseTime: time.Duration(t.responseTime.Load())}
	for i := range st.TargetResponses {
		st.TargetResponses[i], st.ELBResponses[i] = t.target[i].Load(), t.elb[i].Load()
	}
	return st
}
