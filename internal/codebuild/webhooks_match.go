package codebuild

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	api "overcast/internal/api/codebuild"
	"overcast/internal/service"
)

// Webhook events a CodeCommit push can be.
const (
	webhookPush = "PUSH"
)

// webhookEvents are the EVENT filter values CodeBuild accepts.
var webhookEvents = []string{
	"PUSH", "PULL_REQUEST_CREATED", "PULL_REQUEST_UPDATED", "PULL_REQUEST_REOPENED",
	"PULL_REQUEST_MERGED", "PULL_REQUEST_CLOSED",
}

// webhookTrigger is one repository change a webhook may build.
type webhookTrigger struct {
	Event      string // PUSH
	HeadRef    string // refs/heads/main, refs/tags/v1
	BaseRef    string // pull requests only
	Actor      string // the pusher's account ID
	Commit     string
	PrevCommit string
	// Details fetches what only the repository knows, and only when a
	// FILE_PATH or COMMIT_MESSAGE filter asks: the head commit's message and
	// the paths the change touched.
	Details func() (message string, files []string, err error)
}

// trigger is CODEBUILD_WEBHOOK_TRIGGER: branch/<name>, tag/<name> or pr/<n>.
func (t webhookTrigger) trigger() string {
	if name, ok := strings.CutPrefix(t.HeadRef, "refs/heads/"); ok {
		return "branch/" + name
	}
	if name, ok := strings.CutPrefix(t.HeadRef, "refs/tags/"); ok {
		return "tag/" + name
	}
	return t.HeadRef
}

// validateFilterGroups checks filter groups as CreateWebhook and
// UpdateWebhook do: every group has one EVENT filter naming known events,
// and every pattern compiles.
func validateFilterGroups(groups api.FilterGroups) error {
	for _, g := range groups {
		events := 0
		for _, f := range g {
			switch *f.Type {
			case api.WebhookFilterTypeEVENT:
				events++
				for _, e := range strings.Split(*f.Pattern, ",") {
					if !slices.Contains(webhookEvents, strings.TrimSpace(e)) {
						return invalidInput("Invalid filter: EVENT pattern %q is not one of %s", e, strings.Join(webhookEvents, ", "))
					}
				}
			case api.WebhookFilterTypeHEADREF, api.WebhookFilterTypeBASEREF, api.WebhookFilterTypeACTORACCOUNTID,
				api.WebhookFilterTypeFILEPATH, api.WebhookFilterTypeCOMMITMESSAGE:
				if _, err := regexp.Compile(*f.Pattern); err != nil {
					return invalidInput("Invalid filter: %s pattern %q is not a valid regular expression", *f.Type, *f.Pattern)
				}
			default:
				return invalidInput("Invalid filter: type %s is not supported for source type CODECOMMIT", *f.Type)
			}
		}
		if events != 1 {
			return invalidInput("Invalid filter group: a filter group must contain exactly one EVENT filter")
		}
	}
	return nil
}

// webhookMatches says whether a change starts a build: with no filter
// groups (and no branch filter) every push does; otherwise any group whose
// filters all pass does.
func webhookMatches(w *api.Webhook, t webhookTrigger) (bool, error) {
	if bf := service.Deref(w.BranchFilter); bf != "" && len(w.FilterGroups) == 0 {
		re, err := regexp.Compile(bf)
		if err != nil {
			return false, err
		}
		return t.Event == webhookPush && re.MatchString(strings.TrimPrefix(t.HeadRef, "refs/heads/")), nil
	}
	if len(w.FilterGroups) == 0 {
		return t.Event == webhookPush, nil
	}
	var details *struct {
		message string
		files   []string
	}
	fetch := func() (string, []string, error) {
		if details == nil {
			if t.Details == nil {
				return "", nil, nil
			}
			msg, files, err := t.Details()
			if err != nil {
				return "", nil, err
			}
			details = &struct {
				message string
				files   []string
			}{msg, files}
		}
		return details.message, details.files, nil
	}
	for _, g := range w.FilterGroups {
		ok, err := groupMatches(g, t, fetch)
		if ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

func groupMatches(g api.FilterGroup, t webhookTrigger, details func() (string, []string, error)) (bool, error) {
	for _, f := range g {
		re, err := regexp.Compile(*f.Pattern)
		if err != nil {
			return false, fmt.Errorf("webhook filter %s: %w", *f.Type, err)
		}
		var matched bool
		switch *f.Type {
		case api.WebhookFilterTypeEVENT:
			for _, e := range strings.Split(*f.Pattern, ",") {
				matched = matched || strings.TrimSpace(e) == t.Event
			}
		case api.WebhookFilterTypeHEADREF:
			matched = re.MatchString(t.HeadRef)
		case api.WebhookFilterTypeBASEREF:
			matched = t.BaseRef != "" && re.MatchString(t.BaseRef)
		case api.WebhookFilterTypeACTORACCOUNTID:
			matched = re.MatchString(t.Actor)
		case api.WebhookFilterTypeCOMMITMESSAGE:
			msg, _, err := details()
			if err != nil {
				return false, err
			}
			matched = re.MatchString(msg)
		case api.WebhookFilterTypeFILEPATH:
			_, files, err := details()
			if err != nil {
				return false, err
			}
			matched = slices.ContainsFunc(files, re.MatchString)
		}
		if matched == service.Deref(f.ExcludeMatchedPattern) {
			return false, nil
		}
	}
	return true, nil
}

// webhookEnv is the CODEBUILD_WEBHOOK_* variables of a build t started.
func webhookEnv(t webhookTrigger) map[string]string {
	env := map[string]string{
		"CODEBUILD_WEBHOOK_EVENT":            t.Event,
		"CODEBUILD_WEBHOOK_HEAD_REF":         t.HeadRef,
		"CODEBUILD_WEBHOOK_TRIGGER":          t.trigger(),
		"CODEBUILD_WEBHOOK_ACTOR_ACCOUNT_ID": t.Actor,
		"CODEBUILD_WEBHOOK_PREV_COMMIT":      t.PrevCommit,
	}
	if t.BaseRef != "" {
		env["CODEBUILD_WEBHOOK_BASE_REF"] = t.BaseRef
	}
	return env
}
