package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/events"
	"overcast/internal/controller"
	"overcast/internal/service"
	"overcast/internal/store"
)

// Targets are the services EventBridge delivers to, each through the
// small interface it needs; internal/app adapts the services. A nil member
// makes deliveries to that service fail as to a resource that does not
// exist.
type Targets struct {
	Queues QueueSender    // SQS queues, and dead-letter queues
	Topics TopicPublisher // SNS topics
	Logs   LogWriter      // CloudWatch Logs log groups
	Tasks  TaskRunner     // ECS clusters (RunTask)
	Builds BuildStarter   // CodeBuild projects (StartBuild)
	// Others handle the targets of the other services, by the service
	// named in the target's ARN ("codepipeline").
	Others map[string]Target
}

// QueueSender sends to an SQS queue as an AWS service principal on behalf
// of sourceARN (the rule), which the queue's policy must allow.
type QueueSender interface {
	SendAs(ctx context.Context, principal, sourceARN, queueARN string, m QueueMessage) (messageID string, err error)
}

// QueueMessage is a message for a queue.
type QueueMessage struct {
	Body       string
	Attributes map[string]MessageAttribute
	// GroupID and DeduplicationID are for FIFO queues.
	GroupID, DeduplicationID string
}

// MessageAttribute is an SQS or SNS message attribute.
type MessageAttribute struct {
	DataType    string // String, Number or Binary
	StringValue string
	BinaryValue []byte
}

// TopicPublisher publishes to an SNS topic as an AWS service principal on
// behalf of sourceARN, which the topic's policy must allow.
type TopicPublisher interface {
	PublishAs(ctx context.Context, principal, sourceARN, topicARN string, m TopicMessage) (messageID string, err error)
}

// TopicMessage is a message for a topic.
type TopicMessage struct {
	Message, Subject         string
	Attributes               map[string]MessageAttribute
	GroupID, DeduplicationID string
}

// LogWriter appends an event to a log stream of a log group (given by
// ARN), creating the stream.
type LogWriter interface {
	AppendEvent(ctx context.Context, groupARN, stream string, at time.Time, message string) error
}

// TaskRunner runs ECS tasks for a rule, as ECS's RunTask would for the
// rule's role.
type TaskRunner interface {
	RunTasks(ctx context.Context, req TaskRequest) error
}

// TaskRequest is a rule's RunTask: the target's EcsParameters.
type TaskRequest struct {
	ClusterARN, RoleARN     string
	TaskDefinitionARN       string
	Count                   int
	LaunchType              string
	PlatformVersion, Group  string
	Subnets, SecurityGroups []string
	AssignPublicIP          bool
	// StartedBy is "events-rule/<rule name>", what AWS shows.
	StartedBy string
	// Input is the target's input: task overrides ({"containerOverrides":
	// ...}) when it has them.
	Input string
}

// BuildStarter starts a CodeBuild build of a project for a rule.
type BuildStarter interface {
	StartBuild(ctx context.Context, projectARN, roleARN, input string) error
}

// Target is any other kind of target (CodePipeline's pipelines): it
// receives the input for the target ARN.
type Target interface {
	Deliver(ctx context.Context, d Delivery) error
}

// Delivery is one event delivered to a Target.
type Delivery struct {
	TargetARN, RoleARN, RuleARN string
	Input                       string
}

// PermanentError marks a delivery error that retrying cannot fix (the
// target does not exist, or refuses EventBridge); Code is the DLQ's
// ERROR_CODE (NO_PERMISSIONS, NO_RESOURCE).
type PermanentError struct {
	Code string
	Err  error
}

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// delivery is an event still to deliver to one target.
type delivery struct {
	Account  string          `json:"account"`
	Region   string          `json:"region"`
	RuleARN  string          `json:"ruleArn"`
	RuleName string          `json:"ruleName"`
	Target   api.Target      `json:"target"`
	Event    json.RawMessage `json:"event"`
	Ingested time.Time       `json:"ingested"`
	Attempts int             `json:"attempts,omitempty"`
	Next     time.Time       `json:"next"`
}

// Retry defaults and bounds, AWS's.
const (
	defaultMaxAttempts = 185
	defaultMaxAge      = 24 * time.Hour
	maxBackoff         = 5 * time.Minute
)

func (d *delivery) maxRetries() int {
	if p := d.Target.RetryPolicy; p != nil && p.MaximumRetryAttempts != nil {
		return int(*p.MaximumRetryAttempts)
	}
	return defaultMaxAttempts
}

func (d *delivery) maxAge() time.Duration {
	if p := d.Target.RetryPolicy; p != nil && p.MaximumEventAgeInSeconds != nil {
		return time.Duration(*p.MaximumEventAgeInSeconds) * time.Second
	}
	return defaultMaxAge
}

// backoff is the wait before retry n (1-based): exponential from one
// second, capped.
func backoff(n int) time.Duration {
	d := time.Second << min(n-1, 20)
	return min(d, maxBackoff)
}

// reconcileDelivery delivers one event to one target. A failure is retried
// with back-off while the retry policy allows; then the event goes to the
// target's dead-letter queue, or is logged as dropped when it has none.
func (s *Service) reconcileDelivery(ctx context.Context, key string) (controller.Result, error) {
	var d delivery
	var version int64
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		version, err = store.GetJSON(tx, deliveriesTable, key, &d)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	now := s.Now().UTC()
	if now.Before(d.Next) {
		return controller.At(d.Next), nil
	}
	derr := classify(s.invoke(ctx, &d))
	if derr == nil {
		return controller.Result{}, s.forget(ctx, key, version)
	}
	var perm *PermanentError
	exhausted := ""
	switch {
	case errors.As(derr, &perm):
	case d.Attempts >= d.maxRetries():
		exhausted = "MaximumRetryAttempts"
	case now.Sub(d.Ingested) >= d.maxAge():
		exhausted = "MaximumEventAgeInSeconds"
	}
	if perm == nil && exhausted == "" {
		d.Attempts++
		d.Next = now.Add(backoff(d.Attempts))
		err := s.Store.Update(ctx, func(tx store.Tx) error {
			_, err := store.PutJSON(tx, deliveriesTable, key, &d, version)
			return err
		})
		if err != nil {
			return controller.Result{}, err
		}
		return controller.At(d.Next), nil
	}
	if err := s.deadLetter(ctx, &d, derr, perm, exhausted); err != nil {
		return controller.Result{}, err // retried: the event is not dropped
	}
	return controller.Result{}, s.forget(ctx, key, version)
}

func (s *Service) forget(ctx context.Context, key string, version int64) error {
	return s.Store.Update(ctx, func(tx store.Tx) error {
		err := tx.Delete(deliveriesTable, key, version)
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
			return nil
		}
		return err
	})
}

// deadLetter sends a delivery that failed for good to its target's
// dead-letter queue, with the attributes AWS sets. Without one, the loss
// is logged: nothing is dropped silently.
func (s *Service) deadLetter(ctx context.Context, d *delivery, derr error, perm *PermanentError, exhausted string) error {
	code := "TIMEOUT"
	if perm != nil {
		code = perm.Code
	}
	var dlq string
	if c := d.Target.DeadLetterConfig; c != nil {
		dlq = service.Deref(c.Arn)
	}
	if dlq == "" || s.targets.Queues == nil {
		s.Logger.Warn("event not delivered and dropped: the target has no dead-letter queue", "rule", d.RuleARN,
			"target", *d.Target.Arn, "attempts", d.Attempts+1, "err", derr)
		return nil
	}
	str := func(v string) MessageAttribute { return MessageAttribute{DataType: "String", StringValue: v} }
	attrs := map[string]MessageAttribute{
		"RULE_ARN":       str(d.RuleARN),
		"TARGET_ARN":     str(*d.Target.Arn),
		"ERROR_CODE":     str(code),
		"ERROR_MESSAGE":  str(derr.Error()),
		"RETRY_ATTEMPTS": {DataType: "Number", StringValue: strconv.Itoa(d.Attempts)},
	}
	if exhausted != "" {
		attrs["EXHAUSTED_RETRY_CONDITION"] = str(exhausted)
	}
	_, err := s.targets.Queues.SendAs(ctx, servicePrincipal, d.RuleARN, dlq, QueueMessage{Body: string(d.Event), Attributes: attrs})
	if err != nil {
		s.Logger.Warn("event not delivered and its dead-letter queue refuses it: retrying", "rule", d.RuleARN,
			"target", *d.Target.Arn, "dlq", dlq, "err", err)
		return fmt.Errorf("dead-letter queue %s: %w", dlq, err)
	}
	return nil
}

// classify makes a target's refusal that retrying cannot change (access
// denied, no such resource) a PermanentError.
func classify(err error) error {
	var perm *PermanentError
	var ae interface{ ErrorCode() string }
	if err == nil || errors.As(err, &perm) || !errors.As(err, &ae) {
		return err
	}
	code := ae.ErrorCode()
	for _, word := range []string{"AccessDenied", "AuthorizationError", "NotAuthorized", "Forbidden"} {
		if strings.Contains(code, word) {
			return &PermanentError{Code: "NO_PERMISSIONS", Err: err}
		}
	}
	for _, word := range []string{"NotFound", "NonExistent", "NoSuch", "DoesNotExist"} {
		if strings.Contains(code, word) {
			return &PermanentError{Code: "NO_RESOURCE", Err: err}
		}
	}
	return err
}

// invoke delivers the event to the target once.
func (s *Service) invoke(ctx context.Context, d *delivery) error {
	t := &d.Target
	input, err := targetInput(t, invocation{event: d.Event, ruleARN: d.RuleARN, ruleName: d.RuleName, ingested: d.Ingested})
	if err != nil {
		return &PermanentError{Code: "INVALID_INPUT", Err: err}
	}
	a, _ := overcast.ParseARN(*t.Arn)
	noResource := &PermanentError{Code: "NO_RESOURCE", Err: fmt.Errorf("no %s target %s", a.Service, *t.Arn)}
	ctx = overcast.WithCaller(ctx, overcast.RootCaller(d.Account, d.Region))
	switch a.Service {
	case "sqs":
		if s.targets.Queues == nil {
			return noResource
		}
		m := QueueMessage{Body: input}
		if p := t.SqsParameters; p != nil && p.MessageGroupId != nil {
			var ev struct{ ID string }
			_ = json.Unmarshal(d.Event, &ev)
			m.GroupID, m.DeduplicationID = *p.MessageGroupId, ev.ID
		}
		_, err = s.targets.Queues.SendAs(ctx, servicePrincipal, d.RuleARN, *t.Arn, m)
	case "sns":
		if s.targets.Topics == nil {
			return noResource
		}
		_, err = s.targets.Topics.PublishAs(ctx, servicePrincipal, d.RuleARN, *t.Arn, TopicMessage{Message: input})
	case "logs":
		if s.targets.Logs == nil {
			return noResource
		}
		var ev struct{ ID string }
		_ = json.Unmarshal(d.Event, &ev)
		err = s.targets.Logs.AppendEvent(ctx, *t.Arn, ev.ID, d.Ingested, input)
	case "ecs":
		if s.targets.Tasks == nil || t.EcsParameters == nil {
			return noResource
		}
		err = s.targets.Tasks.RunTasks(ctx, taskRequest(d, input))
	case "codebuild":
		if s.targets.Builds == nil {
			return noResource
		}
		err = s.targets.Builds.StartBuild(ctx, *t.Arn, service.Deref(t.RoleArn), input)
	default:
		other := s.targets.Others[a.Service]
		if other == nil {
			return noResource
		}
		err = other.Deliver(ctx, Delivery{TargetARN: *t.Arn, RoleARN: service.Deref(t.RoleArn), RuleARN: d.RuleARN, Input: input})
	}
	return err
}

func taskRequest(d *delivery, input string) TaskRequest {
	p := d.Target.EcsParameters
	req := TaskRequest{ClusterARN: *d.Target.Arn, RoleARN: service.Deref(d.Target.RoleArn),
		TaskDefinitionARN: service.Deref(p.TaskDefinitionArn), Count: int(service.DerefOr(p.TaskCount, 1)),
		LaunchType: service.Deref(p.LaunchType), PlatformVersion: service.Deref(p.PlatformVersion),
		Group: service.Deref(p.Group), StartedBy: "events-rule/" + d.RuleName, Input: input}
	if n := p.NetworkConfiguration; n != nil && n.AwsvpcConfiguration != nil {
		c := n.AwsvpcConfiguration
		req.Subnets, req.SecurityGroups = c.Subnets, c.SecurityGroups
		req.AssignPublicIP = strings.EqualFold(service.Deref(c.AssignPublicIp), "ENABLED")
	}
	return req
}
