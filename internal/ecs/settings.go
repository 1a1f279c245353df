package ecs

import (
	"context"
	"slices"

	"overcast"
	api "overcast/internal/api/ecs"
	"overcast/internal/store"
)

// accountSetting is a setting a principal (or, for the root user, the
// account) chose.
type accountSetting struct {
	Name      string `json:"name"`
	Value     string `json:"value"`
	Principal string `json:"principal"`
}

// settingDefaults are AWS's values for settings nobody chose, and the
// values each accepts.
var settingDefaults = map[string]struct {
	value  string
	values []string
}{
	"serviceLongArnFormat":            {"enabled", []string{"enabled", "disabled"}},
	"taskLongArnFormat":               {"enabled", []string{"enabled", "disabled"}},
	"containerInstanceLongArnFormat":  {"enabled", []string{"enabled", "disabled"}},
	"awsvpcTrunking":                  {"disabled", []string{"enabled", "disabled"}},
	"containerInsights":               {"disabled", []string{"enabled", "disabled", "enhanced"}},
	"fargateFIPSMode":                 {"disabled", []string{"enabled", "disabled"}},
	"tagResourceAuthorization":        {"on", []string{"on", "off"}},
	"fargateTaskRetirementWaitPeriod": {"7", []string{"0", "7", "14"}},
	"guardDutyActivate":               {"off", []string{"on", "off"}},
	"defaultLogDriverMode":            {"non-blocking", []string{"blocking", "non-blocking"}},
	"fargateEventWindows":             {"disabled", []string{"enabled", "disabled"}},
}

func rootARN(sc scope) string { return overcast.RootCaller(sc.Account, sc.Region).ARN }

// principalOf is the principal a settings request acts for: the one it
// names, else the caller.
func principalOf(ctx context.Context, named *string) string {
	if p := deref(named); p != "" {
		return p
	}
	return overcast.CallerFrom(ctx).ARN
}

func settingKey(sc scope, principal, name string) string { return sc.Key(principal + "|" + name) }

// effectiveSetting is the value of a setting for a principal: its own
// choice, else the account's (the root user's), else AWS's default.
// userSet says whether someone chose it.
func effectiveSetting(tx store.Tx, sc scope, principal, name string) (value string, userSet bool, err error) {
	for _, p := range []string{principal, rootARN(sc)} {
		var st accountSetting
		_, err := store.GetJSON(tx, settingsTable, settingKey(sc, p, name), &st)
		if err == nil {
			return st.Value, true, nil
		}
		if !isNotFound(err) {
			return "", false, err
		}
	}
	return settingDefaults[name].value, false, nil
}

func (s *Service) putSetting(ctx context.Context, principal, name, value string) (*api.Setting, error) {
	if !slices.Contains(settingDefaults[name].values, value) {
		return nil, invalidParameter("The specified value %s for the setting %s is not valid.", value, name)
	}
	sc := overcast.ScopeOf(ctx)
	err := s.update(ctx, func(tx store.Tx) error {
		_, err := store.PutJSON(tx, settingsTable, settingKey(sc, principal, name),
			accountSetting{Name: name, Value: value, Principal: principal}, store.AnyVersion)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.Setting{Name: new(name), Value: new(value), PrincipalArn: new(principal), Type: new("user")}, nil
}

func (s *Service) PutAccountSetting(ctx context.Context, in *api.PutAccountSettingRequest) (*api.PutAccountSettingResponse, error) {
	st, err := s.putSetting(ctx, principalOf(ctx, in.PrincipalArn), deref(in.Name), deref(in.Value))
	if err != nil {
		return nil, err
	}
	return &api.PutAccountSettingResponse{Setting: st}, nil
}

func (s *Service) PutAccountSettingDefault(ctx context.Context, in *api.PutAccountSettingDefaultRequest) (*api.PutAccountSettingDefaultResponse, error) {
	st, err := s.putSetting(ctx, rootARN(overcast.ScopeOf(ctx)), deref(in.Name), deref(in.Value))
	if err != nil {
		return nil, err
	}
	return &api.PutAccountSettingDefaultResponse{Setting: st}, nil
}

func (s *Service) DeleteAccountSetting(ctx context.Context, in *api.DeleteAccountSettingRequest) (*api.DeleteAccountSettingResponse, error) {
	sc := overcast.ScopeOf(ctx)
	principal, name := principalOf(ctx, in.PrincipalArn), deref(in.Name)
	var st accountSetting
	err := s.update(ctx, func(tx store.Tx) error {
		_, err := store.GetJSON(tx, settingsTable, settingKey(sc, principal, name), &st)
		if isNotFound(err) {
			return invalidParameter("The specified setting %s was not found for the principal %s.", name, principal)
		}
		if err != nil {
			return err
		}
		return tx.Delete(settingsTable, settingKey(sc, principal, name), store.AnyVersion)
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteAccountSettingResponse{Setting: &api.Setting{Name: new(name), Value: new(st.Value),
		PrincipalArn: new(principal), Type: new("user")}}, nil
}

func (s *Service) ListAccountSettings(ctx context.Context, in *api.ListAccountSettingsRequest) (*api.ListAccountSettingsResponse, error) {
	sc := overcast.ScopeOf(ctx)
	principal := principalOf(ctx, in.PrincipalArn)
	names := []string{deref(in.Name)}
	if in.Name == nil {
		names = names[:0]
		for n := range settingDefaults {
			names = append(names, n)
		}
		slices.Sort(names)
	}
	out := &api.ListAccountSettingsResponse{}
	var err error
	out.Settings, out.NextToken, err = collectPage(ctx, s, in.NextToken, in.MaxResults, func(tx store.Tx, add func(api.Setting)) error {
		for _, name := range names {
			value, userSet, err := effectiveSetting(tx, sc, principal, name)
			if err != nil {
				return err
			}
			own := accountSetting{}
			_, ownErr := store.GetJSON(tx, settingsTable, settingKey(sc, principal, name), &own)
			if !deref(in.EffectiveSettings) {
				// Without effectiveSettings: only what the principal chose.
				if isNotFound(ownErr) {
					continue
				}
				if ownErr != nil {
					return ownErr
				}
				value, userSet = own.Value, true
			}
			if in.Value != nil && *in.Value != value {
				continue
			}
			typ := "aws_managed"
			if userSet {
				typ = "user"
			}
			add(api.Setting{Name: new(name), Value: new(value), PrincipalArn: new(principal), Type: new(typ)})
		}
		return nil
	})
	return out, err
}
