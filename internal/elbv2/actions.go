package elbv2

import (
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"

	api "overcast/internal/api/elbv2"
	"overcast/internal/awsproto"
	"overcast/internal/store"
)

func sameJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func isCode(err error, code string) bool {
	var ae *awsproto.Error
	return errors.As(err, &ae) && ae.Code == code
}

var fixedStatusPattern = regexp.MustCompile(`^[245]\d\d$`)

var fixedContentTypes = []string{"text/plain", "text/css", "text/html", "application/javascript", "application/json"}

// checkActions validates a rule's or a listener's actions and returns
// them as ELBv2 reports them: forwards name their group both ways
// (TargetGroupArn and ForwardConfig) when they name one.
func checkActions(tx store.Tx, sc scope, lb loadBalancer, in api.Actions) (api.Actions, error) {
	if len(in) == 0 {
		return nil, validation("At least one action must be specified")
	}
	terminal := 0
	var out api.Actions
	for _, a := range in {
		a := a
		switch t := deref(a.Type); t {
		case "forward":
			terminal++
			if err := checkForward(tx, sc, lb, &a); err != nil {
				return nil, err
			}
		case "redirect":
			terminal++
			if err := checkRedirect(a.RedirectConfig); err != nil {
				return nil, err
			}
		case "fixed-response":
			terminal++
			if err := checkFixedResponse(a.FixedResponseConfig); err != nil {
				return nil, err
			}
		case "authenticate-oidc", "authenticate-cognito", "jwt-validation":
			return nil, invalidConfiguration("Action type '%s' is only supported on HTTPS listeners", t)
		default:
			return nil, validation("Action type '%s' is not valid", t)
		}
		out = append(out, a)
	}
	if terminal != 1 {
		return nil, invalidConfiguration("A rule must end with exactly one 'forward', 'redirect' or 'fixed-response' action")
	}
	return out, nil
}

func checkForward(tx store.Tx, sc scope, lb loadBalancer, a *api.Action) error {
	arn := deref(a.TargetGroupArn)
	fc := a.ForwardConfig
	if fc != nil && len(fc.TargetGroups) > 0 {
		if arn != "" && (len(fc.TargetGroups) != 1 || deref(fc.TargetGroups[0].TargetGroupArn) != arn) {
			return validation("You cannot specify both a target group ARN and a forward config with different target groups")
		}
		if len(fc.TargetGroups) > 5 {
			return validation("You cannot specify more than 5 target groups in a forward action")
		}
	} else {
		if arn == "" {
			return validation("A target group ARN must be specified")
		}
		fc = &api.ForwardActionConfig{TargetGroups: api.TargetGroupList{{TargetGroupArn: new(arn), Weight: new(int32(1))}}}
	}
	if fc.TargetGroupStickinessConfig == nil {
		fc.TargetGroupStickinessConfig = &api.TargetGroupStickinessConfig{Enabled: new(false)}
	}
	if deref(fc.TargetGroupStickinessConfig.Enabled) && fc.TargetGroupStickinessConfig.DurationSeconds == nil {
		return validation("A duration must be specified when target group stickiness is enabled")
	}
	used, err := usedIn(tx, sc)
	if err != nil {
		return err
	}
	var seen []string
	for i, t := range fc.TargetGroups {
		tgARN := deref(t.TargetGroupArn)
		if err := targetGroupARN.check(tgARN); err != nil {
			return err
		}
		if slices.Contains(seen, tgARN) {
			return validation("Target group '%s' is specified more than once in the forward action", tgARN)
		}
		seen = append(seen, tgARN)
		if _, _, err := getRecord[targetGroup](tx, targetGroupsTable, sc, tgARN, targetGroupNotFound(tgARN)); err != nil {
			return err
		}
		if other := used[tgARN]; other != "" && other != lb.ARN {
			return apiError("TargetGroupAssociationLimit", "The following target groups cannot be associated with more than one load balancer: '%s'", tgARN)
		}
		if t.Weight == nil {
			fc.TargetGroups[i].Weight = new(int32(1))
		}
	}
	a.ForwardConfig = fc
	if len(fc.TargetGroups) == 1 {
		a.TargetGroupArn = fc.TargetGroups[0].TargetGroupArn
	}
	return nil
}

func checkRedirect(c *api.RedirectActionConfig) error {
	if c == nil {
		return validation("A redirect configuration must be specified for a redirect action")
	}
	if c.StatusCode == nil || (*c.StatusCode != "HTTP_301" && *c.StatusCode != "HTTP_302") {
		return validation("Redirect status code must be 'HTTP_301' or 'HTTP_302'")
	}
	if p := deref(c.Path); p != "" && !strings.HasPrefix(p, "/") {
		return validation("Redirect path must start with a '/'")
	}
	if pr := deref(c.Protocol); pr != "" && pr != "HTTP" && pr != "HTTPS" && pr != "#{protocol}" {
		return validation("Redirect protocol must be 'HTTP', 'HTTPS' or '#{protocol}'")
	}
	unchanged := func(p *string, keep string) bool { return p == nil || *p == keep }
	if unchanged(c.Protocol, "#{protocol}") && unchanged(c.Port, "#{port}") && unchanged(c.Host, "#{host}") && unchanged(c.Path, "/#{path}") {
		return validation("The redirect must change at least one of the protocol, port, host or path, to avoid a redirect loop")
	}
	return nil
}

func checkFixedResponse(c *api.FixedResponseActionConfig) error {
	if c == nil {
		return validation("A fixed-response configuration must be specified for a fixed-response action")
	}
	if !fixedStatusPattern.MatchString(deref(c.StatusCode)) {
		return validation("Fixed-response status code must be 2XX, 4XX or 5XX")
	}
	if ct := deref(c.ContentType); ct != "" && !slices.Contains(fixedContentTypes, ct) {
		return validation("Fixed-response content type '%s' is not valid", ct)
	}
	if len(deref(c.MessageBody)) > 1024 {
		return validation("Fixed-response message body cannot be longer than 1024 characters")
	}
	return nil
}
