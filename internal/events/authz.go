package events

import (
	"context"

	"overcast"
	api "overcast/internal/api/events"
	"overcast/internal/authz"
)

// authzTable is how IAM authorizes EventBridge's operations (the Service
// Authorization Reference's "Amazon EventBridge"): on the event bus or
// the rule (on its bus) a call names; PutEvents on the bus of each entry.
var authzTable = &authz.Table{Prefix: "events", Rules: map[string]authz.Rule{
	"CreateEventBus":    {Resources: authz.Ref("Name", eventBusNamed)},
	"DeleteEventBus":    {Resources: authz.Ref("Name", eventBusNamed)},
	"DescribeEventBus":  {Resources: eventBusOf("Name")},
	"PutRule":           {Resources: ruleOf("Name")},
	"DeleteRule":        {Resources: ruleOf("Name")},
	"DescribeRule":      {Resources: ruleOf("Name")},
	"EnableRule":        {Resources: ruleOf("Name")},
	"DisableRule":       {Resources: ruleOf("Name")},
	"PutTargets":        {Resources: ruleOf("Rule")},
	"RemoveTargets":     {Resources: ruleOf("Rule")},
	"ListTargetsByRule": {Resources: ruleOf("Rule")},
	"PutEvents": {Resources: authz.On(func(s authz.Scope, in *api.PutEventsRequest) []string {
		var out []string
		for _, e := range in.Entries {
			out = append(out, busARNOf(s, e.EventBusName))
		}
		return out
	})},
	"TagResource":         {Resources: authz.Ref("ResourceARN", nil)},
	"UntagResource":       {Resources: authz.Ref("ResourceARN", nil)},
	"ListTagsForResource": {Resources: authz.Ref("ResourceARN", nil)},
}}

func eventBusNamed(s authz.Scope, name string) string { return busARN(s.Local(), name) }

// busARNOf is the ARN of the bus an EventBusName names (a name or an ARN,
// the default bus when empty).
func busARNOf(s authz.Scope, ref *string) string {
	return busARN(busScope(s, ref), busName(ref))
}

// busScope is the account and region of the bus ref names: an ARN's, or
// the caller's.
func busScope(s authz.Scope, ref *string) scope {
	if ref != nil {
		if a, ok := overcast.ParseARN(*ref); ok {
			return scope{Account: a.AccountID, Region: a.Region}
		}
	}
	return s.Local()
}

// eventBusOf is Rule.Resources for the bus an input's field names.
func eventBusOf(field string) func(context.Context, authz.Scope, any) []string {
	return func(_ context.Context, s authz.Scope, in any) []string {
		return []string{busARNOf(s, new(authz.Field(in, field)))}
	}
}

// ruleOf is Rule.Resources for the rule an input's field names, on the
// bus its EventBusName names.
func ruleOf(field string) func(context.Context, authz.Scope, any) []string {
	return func(_ context.Context, s authz.Scope, in any) []string {
		name := authz.Field(in, field)
		if name == "" {
			return nil
		}
		bus := new(authz.Field(in, "EventBusName"))
		return []string{ruleARN(busScope(s, bus), busName(bus), name)}
	}
}
