package app

import (
	"context"
	"strings"
	"time"

	"overcast"
	"overcast/internal/cloudwatch"
	"overcast/internal/controller"
	"overcast/internal/elbv2"
)

// elbMetrics publishes the load balancers' traffic as CloudWatch's
// AWS/ApplicationELB metrics once a minute, as ALB does: the counters'
// growth since the last minute, per load balancer and per target group.
type elbMetrics struct {
	elb  *elbv2.Service
	cw   *cloudwatch.Service
	last map[[2]string]elbv2.TrafficStats // by load balancer and target group ARN
}

// publishELBMetrics starts the minute's pass.
func publishELBMetrics(m *controller.Manager, elb *elbv2.Service, cw *cloudwatch.Service) {
	p := &elbMetrics{elb: elb, cw: cw, last: map[[2]string]elbv2.TrafficStats{}}
	m.Every("elbv2-metrics", time.Minute, p.pass)
}

func (p *elbMetrics) pass(ctx context.Context) error {
	// Each load balancer's metrics are its own answers and all its target
	// groups'; each target group's, its own.
	totals := map[string]*elbv2.TrafficStats{}
	var order []string
	var groups []elbv2.TrafficStats
	for _, st := range p.elb.TrafficStats() {
		key := [2]string{st.LoadBalancer, st.TargetGroup}
		grown := growth(st, p.last[key]) // unseen: the counters' start
		p.last[key] = st
		total := totals[st.LoadBalancer]
		if total == nil {
			total = &elbv2.TrafficStats{LoadBalancer: st.LoadBalancer}
			totals[st.LoadBalancer] = total
			order = append(order, st.LoadBalancer)
		}
		total.Requests += grown.Requests
		total.TargetResponseTime += grown.TargetResponseTime
		for class := range total.TargetResponses {
			total.TargetResponses[class] += grown.TargetResponses[class]
			total.ELBResponses[class] += grown.ELBResponses[class]
		}
		if st.TargetGroup != "" {
			groups = append(groups, grown)
		}
	}
	for _, lb := range order {
		if err := p.put(ctx, lb, elbData(*totals[lb])); err != nil {
			return err
		}
	}
	for _, g := range groups {
		if err := p.put(ctx, g.LoadBalancer, elbData(g)); err != nil {
			return err
		}
	}
	return nil
}

func (p *elbMetrics) put(ctx context.Context, lbARN string, data []cloudwatch.Datum) error {
	a, ok := overcast.ParseARN(lbARN)
	if !ok || len(data) == 0 {
		return nil
	}
	return p.cw.Put(ctx, a.AccountID, a.Region, "AWS/ApplicationELB", data)
}

// growth is how much the counters of st grew since prev; the host counts
// are st's.
func growth(st, prev elbv2.TrafficStats) elbv2.TrafficStats {
	g := st
	g.Requests -= prev.Requests
	g.TargetResponseTime -= prev.TargetResponseTime
	for class := range g.TargetResponses {
		g.TargetResponses[class] -= prev.TargetResponses[class]
		g.ELBResponses[class] -= prev.ELBResponses[class]
	}
	return g
}

// elbData is a minute's datapoints of a load balancer (TargetGroup empty)
// or one of its target groups, from the counters' growth g.
func elbData(g elbv2.TrafficStats) []cloudwatch.Datum {
	dims := []cloudwatch.Dimension{{Name: "LoadBalancer", Value: elbDimension(g.LoadBalancer, "loadbalancer/")}}
	if g.TargetGroup != "" {
		dims = append(dims, cloudwatch.Dimension{Name: "TargetGroup", Value: elbDimension(g.TargetGroup, "")})
	}
	count := func(name string, n int64) cloudwatch.Datum {
		return cloudwatch.Datum{MetricName: name, Dimensions: dims, Values: []float64{float64(n)}, Unit: "Count"}
	}
	// Like ALB, traffic metrics come only when there was traffic; host
	// counts come every minute.
	var data []cloudwatch.Datum
	if g.Requests > 0 {
		data = append(data, count("RequestCount", g.Requests))
	}
	answered := int64(0)
	for class := 2; class <= 5; class++ {
		answered += g.TargetResponses[class]
		if n := g.TargetResponses[class]; n > 0 {
			data = append(data, count("HTTPCode_Target_"+string(rune('0'+class))+"XX_Count", n))
		}
		if n := g.ELBResponses[class]; n > 0 && class >= 3 {
			data = append(data, count("HTTPCode_ELB_"+string(rune('0'+class))+"XX_Count", n))
		}
	}
	if answered > 0 {
		mean := g.TargetResponseTime.Seconds() / float64(answered)
		data = append(data, cloudwatch.Datum{MetricName: "TargetResponseTime", Dimensions: dims, Unit: "Seconds",
			Stats: &cloudwatch.Stats{SampleCount: float64(answered), Sum: g.TargetResponseTime.Seconds(), Minimum: mean, Maximum: mean}})
	}
	if g.TargetGroup != "" {
		data = append(data, count("HealthyHostCount", int64(g.HealthyHosts)), count("UnHealthyHostCount", int64(g.UnhealthyHosts)))
		if g.HealthyHosts > 0 && g.Requests > 0 {
			data = append(data, cloudwatch.Datum{MetricName: "RequestCountPerTarget", Unit: "Count",
				Dimensions: []cloudwatch.Dimension{{Name: "TargetGroup", Value: elbDimension(g.TargetGroup, "")}},
				Values:     []float64{float64(g.Requests) / float64(g.HealthyHosts)}})
		}
	}
	return data
}

// elbDimension is the part of an ELBv2 ARN CloudWatch names it by:
// "app/name/id" for a load balancer, "targetgroup/name/id" for a group.
func elbDimension(arn, prefix string) string {
	a, _ := overcast.ParseARN(arn)
	return strings.TrimPrefix(a.Resource, prefix)
}
