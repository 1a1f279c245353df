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
	ev := event{Version: "0", ID: bev.ID, DetailType: bev.Type, Source: bev.Source, Account: bev.Account,
		Time: bev.Time.UTC().Format(eventTimeFormat), Region: bev.Region, Resources: bev.Resources, Detail: bev.Detail}
	if ev.Resources == nil {
		ev.Resources = []string{}
	}
	if len(ev.Detail) == 0 {
		ev.Detail = json.RawMessage("{}")
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
	object := map[string]any{"key": key, "sequencer": text("s3.object.sequencer")}
	if size, ok := field("s3.object.size"); ok {
		object["size"] = size
	}
	for from, to := range map[string]string{"eTag": "etag", "versionId": "version-id"} {
		if v := text("s3.object." + from); v != "" {
			object[to] = v
		}
	}
	requester, _ := strings.CutPrefix(text("userIdentity.principalId"), "AWS:")
	detail := map[string]any{
		"version": "0", "bucket": map[string]string{"name": text("s3.bucket.name")}, "object": object,
		"request-id": text("responseElements.x-amz-request-id"), "requester": requester,
		"source-ip-address": text("requestParameters.sourceIPAddress"),
	}
	if reason, ok := s3Reasons[name]; ok {
		detail["reason"] = reason
	}
	switch name {
	case "ObjectRemoved:Delete", "LifecycleExpiration:Delete":
		detail["deletion-type"] = "Permanently Deleted"
	case "ObjectRemoved:DeleteMarkerCreated", "LifecycleExpiration:DeleteMarkerCreated":
		detail["deletion-type"] = "Delete Marker Created"
	}
	ev.DetailType = dt
	ev.Detail, _ = json.Marshal(detail)
	return ev, true
}
