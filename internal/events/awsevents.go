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
	var deliveries []string
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) (err error) {
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

// s3Notification is the part of S3's bus event detail read here.
type s3Notification struct {
	Records []struct {
		EventName    string `json:"eventName"`
		UserIdentity struct {
			PrincipalID string `json:"principalId"`
		} `json:"userIdentity"`
		RequestParameters struct {
			SourceIPAddress string `json:"sourceIPAddress"`
		} `json:"requestParameters"`
		ResponseElements struct {
			RequestID string `json:"x-amz-request-id"`
		} `json:"responseElements"`
		S3 struct {
			Bucket struct {
				Name string `json:"name"`
			} `json:"bucket"`
			Object struct {
				Key       string `json:"key"`
				Size      *int64 `json:"size"`
				ETag      string `json:"eTag"`
				VersionID string `json:"versionId"`
				Sequencer string `json:"sequencer"`
			} `json:"object"`
		} `json:"s3"`
	} `json:"Records"`
	EventBridge bool `json:"EventBridge"`
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
	var n s3Notification
	if json.Unmarshal(ev.Detail, &n) != nil || !n.EventBridge || len(n.Records) == 0 {
		return event{}, false
	}
	r := n.Records[0]
	name := r.EventName
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
	key, err := url.QueryUnescape(r.S3.Object.Key)
	if err != nil {
		key = r.S3.Object.Key
	}
	object := map[string]any{"key": key, "sequencer": r.S3.Object.Sequencer}
	if r.S3.Object.Size != nil {
		object["size"] = *r.S3.Object.Size
	}
	if r.S3.Object.ETag != "" {
		object["etag"] = r.S3.Object.ETag
	}
	if r.S3.Object.VersionID != "" {
		object["version-id"] = r.S3.Object.VersionID
	}
	requester, _ := strings.CutPrefix(r.UserIdentity.PrincipalID, "AWS:")
	detail := map[string]any{
		"version": "0", "bucket": map[string]string{"name": r.S3.Bucket.Name}, "object": object,
		"request-id": r.ResponseElements.RequestID, "requester": requester,
		"source-ip-address": r.RequestParameters.SourceIPAddress,
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
