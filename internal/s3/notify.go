package s3

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"overcast"
	api "overcast/internal/api/s3"
	"overcast/internal/awsproto"
	"overcast/internal/bus"
	"overcast/internal/ids"
)

// Event notifications. Every object creation and removal is published on
// the event bus (package events) in the transaction that makes it, as an
// bus.Event with Source "aws.s3", Type the S3 event name without its
// "s3:" prefix ("ObjectCreated:Put") and Detail an EventDetail: the
// notification message S3 would send ({"Records": [...]}) plus the
// destinations of the bucket's notification configuration that select the
// event. Subscribers deliver it: SQS, SNS and Lambda to the Destinations,
// EventBridge when EventBridge is set, pipelines as they please.

// EventDetail is the Detail of an S3 event on the bus.
type EventDetail struct {
	Records []EventRecord `json:"Records"`
	// Destinations are the bucket's queue, topic and function
	// configurations whose events and filters select this event.
	Destinations []Destination `json:"Destinations,omitempty"`
	// EventBridge is set when the bucket sends its events to EventBridge.
	EventBridge bool `json:"EventBridge,omitempty"`
}

// Destination is one notification configuration an event matches.
type Destination struct {
	ID   string `json:"Id"`
	Kind string `json:"Kind"` // Queue, Topic or LambdaFunction
	ARN  string `json:"Arn"`
}

// EventRecord is an S3 event notification record (event version 2.1).
type EventRecord struct {
	EventVersion string `json:"eventVersion"`
	EventSource  string `json:"eventSource"`
	AWSRegion    string `json:"awsRegion"`
	EventTime    string `json:"eventTime"`
	EventName    string `json:"eventName"`
	UserIdentity struct {
		PrincipalID string `json:"principalId"`
	} `json:"userIdentity"`
	RequestParameters struct {
		SourceIPAddress string `json:"sourceIPAddress"`
	} `json:"requestParameters"`
	ResponseElements struct {
		RequestID string `json:"x-amz-request-id"`
		HostID    string `json:"x-amz-id-2"`
	} `json:"responseElements"`
	S3 struct {
		SchemaVersion   string `json:"s3SchemaVersion"`
		ConfigurationID string `json:"configurationId"`
		Bucket          struct {
			Name          string `json:"name"`
			OwnerIdentity struct {
				PrincipalID string `json:"principalId"`
			} `json:"ownerIdentity"`
			ARN string `json:"arn"`
		} `json:"bucket"`
		Object struct {
			Key       string `json:"key"`
			Size      *int64 `json:"size,omitempty"`
			ETag      string `json:"eTag,omitempty"`
			VersionID string `json:"versionId,omitempty"`
			Sequencer string `json:"sequencer"`
		} `json:"object"`
	} `json:"s3"`
}

// objectEvent builds the bus event for a change to key.
func (s *Service) objectEvent(ctx context.Context, b *bucketRecord, name, key string, o *objectRecord) bus.Event {
	caller := overcast.CallerFrom(ctx)
	now := s.Now().UTC()
	var r EventRecord
	r.EventVersion, r.EventSource, r.AWSRegion = "2.1", "aws:s3", b.Region
	r.EventTime = now.Format("2006-01-02T15:04:05.000Z")
	r.EventName = name
	r.UserIdentity.PrincipalID = principalID(caller)
	r.RequestParameters.SourceIPAddress = "127.0.0.1"
	reqID := awsproto.RequestID(ctx)
	r.ResponseElements.RequestID, r.ResponseElements.HostID = reqID, awsproto.HostID(reqID)
	r.S3.SchemaVersion = "1.0"
	r.S3.Bucket.Name, r.S3.Bucket.ARN = b.Name, b.arn()
	r.S3.Bucket.OwnerIdentity.PrincipalID = b.Owner
	// Keys are URL-encoded in notifications, spaces as '+'.
	r.S3.Object.Key = url.QueryEscape(key)
	if strings.HasPrefix(name, "ObjectCreated") {
		r.S3.Object.Size = new(o.Size)
		r.S3.Object.ETag = o.ETag
	}
	if o.VersionID != "null" {
		r.S3.Object.VersionID = o.VersionID
	}
	r.S3.Object.Sequencer = fmt.Sprintf("%016X", s.clock.next(o.Seq))

	detail := EventDetail{Records: []EventRecord{r}}
	if n := b.Notification; n != nil {
		detail.EventBridge = n.EventBridgeConfiguration != nil
		for _, d := range destinationsOf(n) {
			if selects(d.events, d.filter, name, key) {
				detail.Destinations = append(detail.Destinations, Destination{ID: deref(*d.id), Kind: d.kind, ARN: d.arn})
			}
		}
	}
	raw, _ := json.Marshal(detail)
	return bus.Event{Source: "aws.s3", Type: name, Time: now, Account: b.Owner, Region: b.Region,
		Resources: []string{b.arn()}, Detail: raw}
}

func principalID(c overcast.Caller) string {
	if c.Kind == overcast.PrincipalAnonymous {
		return "anonymous"
	}
	if c.Kind == "" && c.ARN != "" {
		return c.ARN // S3 itself (lifecycle)
	}
	if c.UserID != "" {
		return "AWS:" + c.UserID
	}
	return "AWS:" + c.AccountID
}

// destinationConfig is one of a notification configuration's queue,
// topic and function configurations.
type destinationConfig struct {
	kind    string // Queue, Topic or LambdaFunction
	service string // of its ARN
	id      **string
	arn     string
	events  api.EventList
	filter  *api.NotificationConfigurationFilter
}

// destinationsOf lists cfg's queue, topic and function configurations, in
// that order; their ids point into cfg.
func destinationsOf(cfg *api.NotificationConfiguration) []destinationConfig {
	var ds []destinationConfig
	for i, q := range cfg.QueueConfigurations {
		ds = append(ds, destinationConfig{"Queue", "sqs", &cfg.QueueConfigurations[i].Id, deref(q.QueueArn), q.Events, q.Filter})
	}
	for i, t := range cfg.TopicConfigurations {
		ds = append(ds, destinationConfig{"Topic", "sns", &cfg.TopicConfigurations[i].Id, deref(t.TopicArn), t.Events, t.Filter})
	}
	for i, l := range cfg.LambdaFunctionConfigurations {
		ds = append(ds, destinationConfig{"LambdaFunction", "lambda", &cfg.LambdaFunctionConfigurations[i].Id, deref(l.LambdaFunctionArn), l.Events, l.Filter})
	}
	return ds
}

// selects reports whether a configuration's events and key filter select
// the event name (without "s3:") for key.
func selects(evs api.EventList, f *api.NotificationConfigurationFilter, name, key string) bool {
	match := false
	for _, e := range evs {
		e = strings.TrimPrefix(e, "s3:")
		if e == name || (strings.HasSuffix(e, ":*") && strings.HasPrefix(name, strings.TrimSuffix(e, "*"))) {
			match = true
			break
		}
	}
	if !match {
		return false
	}
	if f == nil || f.Key == nil {
		return true
	}
	for _, r := range f.Key.FilterRules {
		v := deref(r.Value)
		switch strings.ToLower(deref(r.Name)) {
		case "prefix":
			if !strings.HasPrefix(key, v) {
				return false
			}
		case "suffix":
			if !strings.HasSuffix(key, v) {
				return false
			}
		}
	}
	return true
}

// notificationEvents are the event types a configuration may name.
var notificationEvents = map[string]bool{}

func init() {
	for _, e := range []string{
		"ObjectCreated:*", "ObjectCreated:Put", "ObjectCreated:Post", "ObjectCreated:Copy", "ObjectCreated:CompleteMultipartUpload",
		"ObjectRemoved:*", "ObjectRemoved:Delete", "ObjectRemoved:DeleteMarkerCreated",
		"ObjectRestore:*", "ObjectRestore:Post", "ObjectRestore:Completed", "ObjectRestore:Delete",
		"ReducedRedundancyLostObject", "Replication:*", "Replication:OperationFailedReplication",
		"Replication:OperationMissedThreshold", "Replication:OperationReplicatedAfterThreshold",
		"Replication:OperationNotTracked", "LifecycleExpiration:*", "LifecycleExpiration:Delete",
		"LifecycleExpiration:DeleteMarkerCreated", "LifecycleTransition", "IntelligentTiering",
		"ObjectTagging:*", "ObjectTagging:Put", "ObjectTagging:Delete", "ObjectAcl:Put",
	} {
		notificationEvents["s3:"+e] = true
	}
}

// validateNotification checks a notification configuration as S3 does
// (without asking the destinations whether they accept S3's messages),
// and names configurations that have no Id.
func validateNotification(cfg *api.NotificationConfiguration, source *ids.Source) error {
	check := func(service, arn string, evs api.EventList, f *api.NotificationConfigurationFilter) error {
		a, ok := overcast.ParseARN(arn)
		if !ok || a.Service != service || a.Region == "" || a.AccountID == "" {
			return errInvalidArgument("Unable to validate the following destination configurations", arn, "Invalid ARN")
		}
		if len(evs) == 0 {
			return errMalformedXML()
		}
		for _, e := range evs {
			if !notificationEvents[e] {
				return errInvalidArgument("The event is not supported for notifications", "Event", e)
			}
		}
		if f != nil && f.Key != nil {
			seen := map[string]bool{}
			for _, r := range f.Key.FilterRules {
				n := strings.ToLower(deref(r.Name))
				if n != "prefix" && n != "suffix" {
					return errInvalidArgument("filter rule name must be either prefix or suffix", "FilterRule.Name", deref(r.Name))
				}
				if seen[n] {
					return errInvalidArgument("Cannot specify more than one "+n+" rule in a filter.", "FilterRule.Name", deref(r.Name))
				}
				seen[n] = true
			}
		}
		return nil
	}
	for _, d := range destinationsOf(cfg) {
		if err := check(d.service, d.arn, d.events, d.filter); err != nil {
			return err
		}
		if *d.id == nil {
			*d.id = new(source.Hex(32)) // a random configuration ID, as S3 gives one
		}
	}
	return nil
}
