package events

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"

	"overcast/internal/bus"
	"overcast/internal/store"
)

// internalEvents are the bus events that are overcast's own plumbing, not
// AWS events: CloudWatch Logs' subscription deliveries.
var internalEvents = map[string]bool{"aws.logs/Subscription Filter Delivery": true}

// forward turns a service's bus event into an AWS event on the default bus
// of its account and region. The bus hands each event over until this
// returns nil, and the event keeps its ID, so a crash between the two
// re-delivers it at worst: at least once.
func (s *Service) forward(ctx context.Context, bev bus.Event) error {
	ev, ok := awsEvent(bev)
	if !ok {
		return nil
	}
	sc := scope{Account: bev.Account, Region: bev.Region}
	// Most service events match no rule: find out without a write.
	var matched []string
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		_, matched, err = s.matchingRules(tx, sc, defaultBus, ev)
		return err
	})
	if err != nil || len(matched) == 0 {
		return err
	}
	var deliveries []string
	err = store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) (err error) {
		deliveries, err = s.route(tx, sc, defaultBus, ev)
		return err
	})
	if err != nil {
		return err
	}
	s.deliveries.Enqueue(deliveries...)
	return nil
}

// awsEvent is the AWS event a bus event stands for, if any. Most services
// publish AWS's own detail-type and detail; S3 publishes its notification
// record, which becomes EventBridge's S3 event only for buckets that send
// their events to EventBridge.
func awsEvent(bev bus.Event) (event, bool) {
	if internalEvents[bev.Source+"/"+bev.Type] || bev.Account == "" || bev.Region == "" {
		return event{}, false
	}
	ev := event{envelope{Version: "0", ID: bev.ID, DetailType: bev.Type, Source: bev.Source, Account: bev.Account,
		Time: bev.Time.UTC().Format(eventTimeFormat), Region: bev.Region, Resources: bev.Resources}, bev.Detail}
	if ev.Resources == nil {
		ev.Resources = []string{}
	}
	if len(ev.Detail) == 0 {
		ev.Detail = json.RawMessage("{}")
	}
	if !json.Valid(ev.Detail) {
		return event{}, false // nothing could match it, and it must not hold up the bus
	}
	if bev.Source == "aws.s3" {
		return s3Event(ev)
	}
	return ev, true
}

// s3DetailTypes maps S3's event names to EventBridge's detail-types.
var s3DetailTypes = map[string]string{
	"ObjectCreated":           "Object Created",
	"ObjectRemoved":           "Object Deleted",
	"ObjectRestore:Post":      "Object Restore Initiated",
	"ObjectRestore:Completed": "Object Restore Completed",
	"ObjectRestore:Delete":    "Object Restore Expired",
	"ObjectTagging:Put":       "Object Tags Added",
	"ObjectTagging:Delete":    "Object Tags Deleted",
	"ObjectAcl:Put":           "Object ACL Updated",
	"LifecycleTransition":     "Object Storage Class Changed",
}

// s3Reasons are the API calls EventBridge names as an event's reason.
var s3Reasons = map[string]string{
	"ObjectCreated:Put": "PutObject", "ObjectCreated:Post": "PostObject", "ObjectCreated:Copy": "CopyObject",
	"ObjectCreated:CompleteMultipartUpload": "CompleteMultipartUpload",
	"ObjectRemoved:Delete":                  "DeleteObject", "ObjectRemoved:DeleteMarkerCreated": "DeleteObject",
	"LifecycleExpiration:Delete": "Lifecycle Expiration", "LifecycleExpiration:DeleteMarkerCreated": "Lifecycle Expiration",
}

// s3Detail is the detail of EventBridge's S3 events, in AWS's order.
type s3Detail struct {
	Version string `json:"version"`
	Bucket  struct {
		Name string `json:"name"`
	} `json:"bucket"`
	Object       s3Object `json:"object"`
	RequestID    string   `json:"request-id"`
	Requester    string   `json:"requester"`
	SourceIP     string   `json:"source-ip-address"`
	Reason       string   `json:"reason,omitempty"`
	DeletionType string   `json:"deletion-type,omitempty"`
}

type s3Object struct {
	Key       string          `json:"key"`
	Size      json.RawMessage `json:"size,omitempty"`
	ETag      string          `json:"etag,omitempty"`
	VersionID string          `json:"version-id,omitempty"`
	Sequencer string          `json:"sequencer"`
}

func s3Event(ev event) (event, bool) {
	var flag struct{ EventBridge bool }
	if json.Unmarshal(ev.Detail, &flag) != nil || !flag.EventBridge {
		return event{}, false
	}
	// The first record of S3's notification, read by path.
	field := func(path string) (json.RawMessage, bool) {
		p, _ := parseJSONPath("$.Records[0]." + path)
		return p.get(ev.Detail)
	}
	text := func(path string) string {
		v, _ := field(path)
		var s string
		_ = json.Unmarshal(v, &s)
		return s
	}
	name := text("eventName")
	dt, ok := s3DetailTypes[name]
	if !ok {
		family, _, _ := strings.Cut(name, ":")
		if family == "LifecycleExpiration" {
			family = "ObjectRemoved"
		}
		if dt, ok = s3DetailTypes[family]; !ok {
			return event{}, false
		}
	}
	key, err := url.QueryUnescape(text("s3.object.key"))
	if err != nil {
		key = text("s3.object.key")
	}
	size, _ := field("s3.object.size")
	requester, _ := strings.CutPrefix(text("userIdentity.principalId"), "AWS:")
	detail := s3Detail{Version: "0", RequestID: text("responseElements.x-amz-request-id"), Requester: requester,
		SourceIP: text("requestParameters.sourceIPAddress"), Reason: s3Reasons[name]}
	detail.Bucket.Name = text("s3.bucket.name")
	detail.Object = s3Object{Key: key, Size: size, ETag: text("s3.object.eTag"), VersionID: text("s3.object.versionId"),
		Sequencer: text("s3.object.sequencer")}
	switch name {
	case "ObjectRemoved:Delete", "LifecycleExpiration:Delete":
		detail.DeletionType = "Permanently Deleted"
	case "ObjectRemoved:DeleteMarkerCreated", "LifecycleExpiration:DeleteMarkerCreated":
		detail.DeletionType = "Delete Marker Created"
	}
	ev.DetailType = dt
	ev.Detail, _ = json.Marshal(detail)
	return ev, true
}
