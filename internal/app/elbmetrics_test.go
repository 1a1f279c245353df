package app_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"overcast/internal/awstest"
)

// The load balancers' traffic reaches CloudWatch as AWS/ApplicationELB
// metrics, a minute at a time.
func TestELBMetricsReachCloudWatch(t *testing.T) {
	start := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	srv, fake := awstest.StartAt(t, start)
	cfg := srv.Config()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") }))
	t.Cleanup(backend.Close)
	backendPort, _ := strconv.Atoi(backend.URL[len("http://127.0.0.1:"):])

	lbc := elb.NewFromConfig(cfg)
	var subnets []string
	for _, sn := range awstest.Call(t, ec2.NewFromConfig(cfg).DescribeSubnets, &ec2.DescribeSubnetsInput{}).Subnets {
		subnets = append(subnets, aws.ToString(sn.SubnetId))
	}
	lb := awstest.Call(t, lbc.CreateLoadBalancer, &elb.CreateLoadBalancerInput{Name: aws.String("metrics"), Subnets: subnets}).LoadBalancers[0]
	tg := awstest.Call(t, lbc.CreateTargetGroup, &elb.CreateTargetGroupInput{Name: aws.String("metrics"), TargetType: elbtypes.TargetTypeEnumIp,
		Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(int32(backendPort)), VpcId: lb.VpcId}).TargetGroups[0]
	awstest.Call(t, lbc.RegisterTargets, &elb.RegisterTargetsInput{TargetGroupArn: tg.TargetGroupArn,
		Targets: []elbtypes.TargetDescription{{Id: aws.String("127.0.0.1"), Port: aws.Int32(int32(backendPort))}}})
	port := awstest.FreePort(t)
	awstest.Call(t, lbc.CreateListener, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(int32(port)), DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: tg.TargetGroupArn}}})

	const requests = 5
	for range requests {
		awstest.WaitFor(t, "an answer through the load balancer", func() bool {
			req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/", port), nil)
			req.Host = aws.ToString(lb.DNSName)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
	}
	fake.Advance(time.Minute)

	cw := cloudwatch.NewFromConfig(cfg)
	lbDimension := aws.ToString(lb.LoadBalancerArn)[len("arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/"):]
	names := map[string]bool{}
	wantNames := []string{"RequestCount", "HTTPCode_Target_2XX_Count", "TargetResponseTime", "HealthyHostCount", "UnHealthyHostCount"}
	awstest.WaitFor(t, "the load balancer's metrics in CloudWatch", func() bool {
		out, err := cw.ListMetrics(t.Context(), &cloudwatch.ListMetricsInput{Namespace: aws.String("AWS/ApplicationELB")})
		if err != nil {
			return false
		}
		for _, m := range out.Metrics {
			names[aws.ToString(m.MetricName)] = true
		}
		for _, n := range wantNames {
			if !names[n] {
				return false
			}
		}
		return true
	})
	var sum float64
	awstest.WaitFor(t, "RequestCount in CloudWatch", func() bool {
		out, err := cw.GetMetricStatistics(t.Context(), &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("AWS/ApplicationELB"),
			MetricName: aws.String("RequestCount"), Dimensions: []cwtypes.Dimension{{Name: aws.String("LoadBalancer"), Value: aws.String(lbDimension)}},
			StartTime: aws.Time(start.Add(-time.Hour)), EndTime: aws.Time(start.Add(time.Hour)), Period: aws.Int32(3600),
			Statistics: []cwtypes.Statistic{cwtypes.StatisticSum}})
		if err != nil || len(out.Datapoints) == 0 {
			return false
		}
		sum = aws.ToFloat64(out.Datapoints[0].Sum)
		return sum >= requests
	})
	if sum != requests {
		t.Errorf("RequestCount: got %v, want %d", sum, requests)
	}
}
