package secretsmanager

import (
	"context"
	"strings"

	"overcast"
	api "overcast/internal/api/secretsmanager"
	"overcast/internal/authz"
	"overcast/internal/store"
)

var _ authz.Resources = (*Service)(nil)

// ResourceOf describes the secret an ARN names (full or partial), for
// authorization: its account, its resource policy and its tags.
func (s *Service) ResourceOf(ctx context.Context, arn string) (authz.Resource, error) {
	a, _ := overcast.ParseARN(arn)
	res := authz.Resource{Owner: a.AccountID}
	var sec secret
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		sec, _, err = s.lookup(tx, scope{Account: a.AccountID, Region: a.Region}, arn)
		return err
	})
	if err != nil {
		return res, nil // no such secret: the operation says so
	}
	return describe(sec, a.AccountID), nil
}

// describe is what IAM weighs of the secret: its policy and tags.
func describe(sec secret, owner string) authz.Resource {
	res := authz.Resource{Owner: owner}
	if sec.Policy != "" {
		p := authz.ParsePolicy(sec.Name, "resource", sec.Policy)
		res.Policy = &p
	}
	if len(sec.Tags) > 0 {
		res.Tags = make(map[string]string, len(sec.Tags))
		for _, t := range sec.Tags {
			res.Tags[t.Key] = t.Value
		}
	}
	return res
}

// authzTable is how IAM authorizes Secrets Manager's operations (the
// Service Authorization Reference's "AWS Secrets Manager"): on the secret
// a call names, by name or by (partial) ARN, as its full ARN with the
// random suffix. It is the Service's own because only the store knows
// that suffix; a secret that does not exist is its partial ARN.
func (s *Service) authzTable() *authz.Table {
	onSecret := authz.Rule{Resources: s.secretARNs("SecretId")}
	return &authz.Table{Prefix: "secretsmanager", Rules: map[string]authz.Rule{
		"CreateSecret":             {Resources: s.createdSecret},
		"DescribeSecret":           onSecret,
		"GetSecretValue":           onSecret,
		"PutSecretValue":           onSecret,
		"UpdateSecret":             onSecret,
		"UpdateSecretVersionStage": onSecret,
		"DeleteSecret":             onSecret,
		"RestoreSecret":            onSecret,
		"ListSecretVersionIds":     onSecret,
		"GetResourcePolicy":        onSecret,
		"PutResourcePolicy":        onSecret,
		"DeleteResourcePolicy":     onSecret,
		"ValidateResourcePolicy":   onSecret,
		"TagResource":              onSecret,
		"UntagResource":            onSecret,
		// Each secret a batch reads needs GetSecretValue as well.
		"BatchGetSecretValue": {Also: []authz.Rule{{Action: "GetSecretValue", Resources: s.secretARNs("SecretIdList")}}},
	}}
}

// createdSecret is the secret CreateSecret makes, by the full ARN it will
// have (AWS authorizes "secret:<name>-<random suffix>", which policies
// match with "secret:<name>-*"), or the one of that name that exists.
func (s *Service) createdSecret(ctx context.Context, as authz.Scope, input any) []string {
	in, ok := input.(*api.CreateSecretRequest)
	if !ok || in == nil || in.Name == nil || *in.Name == "" {
		return nil
	}
	sc := as.Local()
	var sec secret
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		sec, _, err = s.lookup(tx, sc, *in.Name)
		return err
	})
	if err == nil {
		return []string{sec.ARN}
	}
	return []string{s.newSecretARN(sc, in)}
}

// secretARNs is Rule.Resources for the secrets an input's field names.
func (s *Service) secretARNs(field string) func(context.Context, authz.Scope, any) []string {
	return func(ctx context.Context, as authz.Scope, in any) []string {
		sc := as.Local()
		var out []string
		for _, id := range authz.Fields(in, field) {
			if id == "" {
				continue
			}
			var sec secret
			err := s.Store.View(ctx, func(tx store.Tx) (err error) {
				sec, _, err = s.lookup(tx, sc, id)
				return err
			})
			switch {
			case err == nil:
				out = append(out, sec.ARN)
				owner, _ := overcast.ParseARN(sec.ARN)
				authz.Describe(ctx, sec.ARN, describe(sec, owner.AccountID))
			case strings.HasPrefix(id, "arn:"):
				out = append(out, id)
			default:
				out = append(out, partialARN(sc, id))
			}
		}
		return out
	}
}
