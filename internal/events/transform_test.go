package events

import (
	"testing"
	"time"

	api "overcast/internal/api/events"
)

func TestTargetInput(t *testing.T) {
	event := []byte(`{"version":"0","id":"e1","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2",` +
		`"account":"123456789012","time":"2026-01-01T12:00:00Z","region":"us-east-1","resources":["arn:i"],` +
		`"detail":{"instance-id":"i-1","state":"running","count":3,"tags":["a","b"],"obj":{"k":"v"}}}`)
	inv := invocation{event: event, ruleARN: "arn:aws:events:us-east-1:123456789012:rule/r", ruleName: "r",
		ingested: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	paths := api.TransformerPaths{"instance": "$.detail.instance-id", "state": "$.detail.state", "count": "$.detail.count",
		"tags": "$.detail.tags", "obj": "$.detail.obj", "first": "$.detail.tags[1]", "missing": "$.detail.nope"}
	tests := []struct {
		name   string
		target api.Target
		want   string
	}{
		{"the whole event", api.Target{}, string(event)},
		{"constant input", api.Target{Input: new(`{"a":1}`)}, `{"a":1}`},
		{"input path", api.Target{InputPath: new("$.detail.obj")}, `{"k":"v"}`},
		{"input path to a string", api.Target{InputPath: new("$.detail.state")}, `"running"`},
		{"values in JSON positions take their JSON form", transformer(paths, `{"i": <instance>, "n": <count>, "t": <tags>, "o": <obj>}`),
			`{"i": "i-1", "n": 3, "t": ["a","b"], "o": {"k":"v"}}`},
		{"values inside strings go in raw", transformer(paths, `{"msg": "<instance> is <state> (<count>)"}`),
			`{"msg": "i-1 is running (3)"}`},
		{"a one-string template", transformer(paths, `"<instance> is in state <state>"`), `"i-1 is in state running"`},
		{"array index", transformer(paths, `<first>`), `"b"`},
		{"reserved variables", transformer(paths, `{"rule": <aws.events.rule-name>, "arn": "<aws.events.rule-arn>", "at": <aws.events.event.ingestion-time>}`),
			`{"rule": "r", "arn": "arn:aws:events:us-east-1:123456789012:rule/r", "at": "2026-01-01T12:00:00Z"}`},
		{"the envelope without detail", transformer(nil, `<aws.events.event>`),
			`{"version":"0","id":"e1","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","account":"123456789012","time":"2026-01-01T12:00:00Z","region":"us-east-1","resources":["arn:i"]}`},
		{"input path keeps the event's order", api.Target{InputPath: new("$.detail")},
			`{"instance-id":"i-1","state":"running","count":3,"tags":["a","b"],"obj":{"k":"v"}}`},
		{"unknown placeholders stay", transformer(paths, `{"x": "<missing> <nope>"}`), `{"x": "<missing> <nope>"}`},
	}
	for _, tt := range tests {
		got, err := targetInput(&tt.target, inv)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
}

func transformer(paths api.TransformerPaths, template string) api.Target {
	return api.Target{InputTransformer: &api.InputTransformer{InputPathsMap: paths, InputTemplate: &template}}
}
