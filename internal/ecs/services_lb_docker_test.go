package ecs_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"overcast/internal/awstest"
	"overcast/internal/service/servicetest"
)

// A Fargate service behind an Application Load Balancer: its tasks
// register in the target group, count as healthy when the group says so,
// and a rolling update under load loses no request.
func TestServiceBehindALB(t *testing.T) {
	e := serviceEnv(t, "alb")
	lbc := elb.NewFromConfig(e.srv.Config())
	var subnets []string
	for _, sn := range awstest.Call(t, ec2.NewFromConfig(e.srv.Config()).DescribeSubnets, &ec2.DescribeSubnetsInput{}).Subnets {
		subnets = append(subnets, aws.ToString(sn.SubnetId))
	}
	lb := awstest.Call(t, lbc.CreateLoadBalancer, &elb.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: subnets}).LoadBalancers[0]
	tg := awstest.Call(t, lbc.CreateTargetGroup, &elb.CreateTargetGroupInput{Name: aws.String("web"), TargetType: elbtypes.TargetTypeEnumIp,
		Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8080), VpcId: lb.VpcId,
		HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2), HealthyThresholdCount: aws.Int32(2)}).TargetGroups[0]
	awstest.Call(t, lbc.ModifyTargetGroupAttributes, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: tg.TargetGroupArn,
		Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("2")}}})
	port := awstest.FreePort(t)
	awstest.Call(t, lbc.CreateListener, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(int32(port)), DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: tg.TargetGroupArn}}})

	td := web("alb-web")
	td.ContainerDefinitions[0].Image = aws.String(e.image)
	td.ContainerDefinitions[0].PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(8080)}}
	awstest.Call(t, e.c.RegisterTaskDefinition, td)
	td.ContainerDefinitions[0].Environment = []types.KeyValuePair{{Name: aws.String("REVISION"), Value: aws.String("2")}}
	awstest.Call(t, e.c.RegisterTaskDefinition, td)
	network := &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: subnets}}
	balanced := []types.LoadBalancer{{TargetGroupArn: tg.TargetGroupArn, ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080)}}

	// A target group the task's network mode cannot use is refused.
	instanceTG := awstest.Call(t, lbc.CreateTargetGroup, &elb.CreateTargetGroupInput{Name: aws.String("instances"), Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(8080), VpcId: lb.VpcId}).TargetGroups[0]
	_, err := e.c.CreateService(e.ctx, &ecs.CreateServiceInput{Cluster: aws.String("alb"), ServiceName: aws.String("web"), TaskDefinition: aws.String("alb-web:1"),
		DesiredCount: aws.Int32(2), LaunchType: types.LaunchTypeFargate, NetworkConfiguration: network,
		LoadBalancers: []types.LoadBalancer{{TargetGroupArn: instanceTG.TargetGroupArn, ContainerName: aws.String("web"), ContainerPort: aws.Int32(8080)}}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidParameterException", Message: "does not have an associated load balancer"})

	statuses := e.taskChanges(t)
	awstest.Call(t, e.c.CreateService, &ecs.CreateServiceInput{Cluster: aws.String("alb"), ServiceName: aws.String("web"), TaskDefinition: aws.String("alb-web:1"),
		DesiredCount: aws.Int32(2), LaunchType: types.LaunchTypeFargate, NetworkConfiguration: network, LoadBalancers: balanced,
		HealthCheckGracePeriodSeconds: aws.Int32(30)})
	e.waitStable(t, "alb", "web")
	health := awstest.Call(t, lbc.DescribeTargetHealth, &elb.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn}).TargetHealthDescriptions
	healthy := 0
	for _, h := range health {
		if h.TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
			healthy++
		}
	}
	if healthy != 2 {
		t.Errorf("healthy targets once the service is steady: got %d of %d, want 2", healthy, len(health))
	}

	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	get := func() (int, string) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Host = aws.ToString(lb.DNSName)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(); code != http.StatusOK || !strings.HasPrefix(body, "hello from") {
		t.Fatalf("GET through the load balancer: %d %q", code, body)
	}
	firstTasks := e.serviceTasks(t, "alb", "web", types.DesiredStatusRunning)

	// Roll to revision 2 while a client keeps asking: no request fails.
	var ok, failed atomic.Int64
	var lastFailure atomic.Value
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if code, body := get(); code == http.StatusOK {
				ok.Add(1)
			} else {
				failed.Add(1)
				lastFailure.Store(fmt.Sprintf("%d %s", code, body))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	awstest.Call(t, e.c.UpdateService, &ecs.UpdateServiceInput{Cluster: aws.String("alb"), Service: aws.String("web"), TaskDefinition: aws.String("alb-web:2")})
	e.waitStable(t, "alb", "web")
	close(stop)
	<-done
	t.Logf("requests during the rolling update: %d ok, %d failed", ok.Load(), failed.Load())
	if failed.Load() != 0 || ok.Load() == 0 {
		t.Errorf("requests during the rolling update: %d ok, %d failed (last: %v)", ok.Load(), failed.Load(), lastFailure.Load())
	}
	for _, task := range e.serviceTasks(t, "alb", "web", types.DesiredStatusRunning) {
		if revisionOf(task) != "2" {
			t.Errorf("running task %s is of revision %s, want 2", aws.ToString(task.TaskArn), revisionOf(task))
		}
	}
	// The replaced tasks went through every state of a task behind a load
	// balancer.
	want := []string{"PROVISIONING", "PENDING", "ACTIVATING", "RUNNING", "DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED"}
	for _, task := range firstTasks {
		arn := aws.ToString(task.TaskArn)
		servicetest.WaitForEvery(t, "the states of "+arn, 100*time.Millisecond, time.Minute, func() bool {
			got := statuses(arn)
			return len(got) > 0 && got[len(got)-1] == "STOPPED"
		})
		if got := statuses(arn); !slices.Equal(got, want) {
			t.Errorf("states of %s: got %v, want %v", arn, got, want)
		}
	}
	awstest.Call(t, e.c.DeleteService, &ecs.DeleteServiceInput{Cluster: aws.String("alb"), Service: aws.String("web"), Force: aws.Bool(true)})
}
