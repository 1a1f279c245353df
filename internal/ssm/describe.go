package ssm

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"overcast"
	api "overcast/internal/api/ssm"
	"overcast/internal/awsproto"
	"overcast/internal/store"
)

// filter is one ParameterStringFilter, validated.
type filter struct {
	key    string // Name, Type, KeyId, Path, Tier, DataType, Label or tag:<key>
	option string
	values []string
}

// filterError is an SSM filter error: InvalidFilterKey has no message member
// in the model, but AWS sends one, and so do we.
func filterError(code, format string, args ...any) error {
	return awsproto.Errorf(http.StatusBadRequest, code, format, args...)
}

// parseFilters checks ParameterStringFilters beyond the model's
// constraints (which the codec checks); allowed lists the keys the
// operation accepts (tag: keys are allowed when "tag" is in it).
func parseFilters(in api.ParameterStringFilterList, allowed []string) ([]filter, error) {
	var out []filter
	seen := map[string]bool{}
	for _, f := range in {
		key := *f.Key
		isTag := strings.HasPrefix(key, "tag:")
		if !(isTag && slices.Contains(allowed, "tag")) && !slices.Contains(allowed, key) {
			var valid []string
			for _, a := range allowed {
				if a != "tag" {
					valid = append(valid, a)
				}
			}
			return nil, filterError("InvalidFilterKey", "The following filter key is not valid: %s. Valid filter keys include: [%s].", key, strings.Join(valid, ", "))
		}
		if seen[key] {
			return nil, filterError("InvalidFilterKey", "The following filter is duplicated in the request: %s. A request can contain only one occurrence of a specific filter.", key)
		}
		seen[key] = true
		option := ""
		if f.Option != nil {
			option = *f.Option
		}
		switch {
		case key == "Path":
			if option == "" {
				option = "OneLevel"
			}
			if option != "OneLevel" && option != "Recursive" {
				return nil, api.NewInvalidFilterOption("The following filter option is not valid: %s. Valid options include: [Recursive, OneLevel].", option)
			}
		case key == "Name":
			if option == "" {
				option = "Equals"
			}
			if option != "Equals" && option != "BeginsWith" && option != "Contains" {
				return nil, api.NewInvalidFilterOption("The following filter option is not valid: %s. Valid options include: [BeginsWith, Equals, Contains].", option)
			}
		default:
			if option == "" {
				option = "Equals"
			}
			if option != "Equals" && option != "BeginsWith" {
				return nil, api.NewInvalidFilterOption("The following filter option is not valid: %s. Valid options include: [BeginsWith, Equals].", option)
			}
		}
		if len(f.Values) == 0 && !isTag {
			return nil, api.NewInvalidFilterValue("The following filter values are missing : null for filter key %s", key)
		}
		values := slices.Clone([]string(f.Values))
		switch key {
		case "Type":
			for _, val := range values {
				if option == "Equals" && !slices.Contains([]string{api.ParameterTypeString, api.ParameterTypeStringList, api.ParameterTypeSecureString}, val) {
					return nil, api.NewInvalidFilterValue("The following filter value is not valid: %s. Valid values include: [String, StringList, SecureString]", val)
				}
			}
		case "Tier":
			for _, val := range values {
				if !slices.Contains([]string{api.ParameterTierStandard, api.ParameterTierAdvanced, api.ParameterTierIntelligentTiering}, val) {
					return nil, api.NewInvalidFilterValue("The following filter value is not valid: %s. Valid values include: [Standard, Advanced, Intelligent-Tiering]", val)
				}
			}
		case "Path":
			for i, val := range values {
				first, _, _ := strings.Cut(strings.ToLower(strings.TrimPrefix(val, "/")), "/")
				if strings.HasPrefix(first, "aws") || strings.HasPrefix(first, "ssm") {
					return nil, validationError(`Filters for common parameters can't be prefixed with "aws" or "ssm" (case-insensitive).`)
				}
				p, err := normalizePath(val)
				if err != nil {
					return nil, err
				}
				values[i] = p
			}
		}
		out = append(out, filter{key: key, option: option, values: values})
	}
	return out, nil
}

// match reports whether p passes the filter.
func (f filter) match(p *parameter) bool {
	switch {
	case f.key == "Name":
		name := strings.TrimPrefix(p.Name, "/")
		for _, val := range f.values {
			val = strings.TrimPrefix(val, "/")
			switch f.option {
			case "Equals":
				if name == val {
					return true
				}
			case "BeginsWith":
				if strings.HasPrefix(name, val) {
					return true
				}
			case "Contains":
				if strings.Contains(name, val) {
					return true
				}
			}
		}
		return false
	case f.key == "Path":
		for _, val := range f.values {
			if inPath(p.Name, val, f.option == "Recursive") {
				return true
			}
		}
		return false
	case f.key == "Type":
		return f.matchValue(p.Type)
	case f.key == "KeyId":
		return p.Type == api.ParameterTypeSecureString && f.matchValue(p.KeyID)
	case f.key == "Tier":
		return f.matchValue(p.Tier)
	case f.key == "DataType":
		return f.matchValue(p.DataType)
	case f.key == "Label":
		_, ok := f.labelled(p)
		return ok
	case strings.HasPrefix(f.key, "tag:"):
		key := strings.TrimPrefix(f.key, "tag:")
		for _, t := range p.Tags {
			if t.Key == key {
				return len(f.values) == 0 || f.matchValue(t.Value)
			}
		}
		return false
	}
	return false
}

func (f filter) matchValue(s string) bool {
	for _, val := range f.values {
		if (f.option == "BeginsWith" && strings.HasPrefix(s, val)) || (f.option != "BeginsWith" && s == val) {
			return true
		}
	}
	return false
}

// labelled returns the newest version carrying a label the filter matches.
func (f filter) labelled(p *parameter) (int64, bool) {
	var best int64
	found := false
	for _, l := range p.Labels {
		if f.matchValue(l.Name) && (!found || l.Version > best) {
			best, found = l.Version, true
		}
	}
	return best, found
}

func matchAll(filters []filter, p *parameter) bool {
	for _, f := range filters {
		if !f.match(p) {
			return false
		}
	}
	return true
}

// legacyFilters turns the deprecated ParametersFilter list into filters.
func legacyFilters(in api.ParametersFilterList) ([]filter, error) {
	var out []filter
	for _, f := range in {
		key := *f.Key
		option := "Equals"
		if key == api.ParametersFilterKeyName {
			option = "BeginsWith"
		}
		if len(f.Values) == 0 {
			return nil, api.NewInvalidFilterValue("The following filter values are missing : null for filter key %s", key)
		}
		out = append(out, filter{key: key, option: option, values: f.Values})
	}
	return out, nil
}

// DescribeParameters lists parameters' metadata, filtered, a page at a time.
func (s *Service) DescribeParameters(ctx context.Context, in *api.DescribeParametersRequest) (*api.DescribeParametersResult, error) {
	sc := overcast.ScopeOf(ctx)
	limit := awsproto.PageSize(in.MaxResults, 10)
	if len(in.Filters) > 0 && len(in.ParameterFilters) > 0 {
		return nil, validationError("You can use either Filters or ParameterFilters in a single request.")
	}
	filters, err := legacyFilters(in.Filters)
	if err != nil {
		return nil, err
	}
	if len(in.ParameterFilters) > 0 {
		filters, err = parseFilters(in.ParameterFilters, []string{"Path", "Name", "Type", "KeyId", "Tier", "DataType", "Label", "tag"})
		if err != nil {
			return nil, err
		}
	}
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeParametersResult{Parameters: api.ParameterMetadataList{}}
	if in.Shared != nil && *in.Shared {
		// Nothing is ever shared with an overcast account.
		return out, nil
	}
	var page []parameter
	var next *string
	err = s.Store.View(ctx, func(tx store.Tx) (err error) {
		page, next, err = scanParameters(tx, sc, sc.Prefix(), after, limit, func(p *parameter) bool { return matchAll(filters, p) })
		return err
	})
	if err != nil {
		return nil, err
	}
	out.NextToken = next
	for i := range page {
		p := &page[i]
		m := api.ParameterMetadata{
			Name:             new(p.Name),
			ARN:              new(parameterARN(sc, p.Name)),
			Type:             new(p.Type),
			LastModifiedDate: new(p.Modified),
			LastModifiedUser: new(p.ModifiedBy),
			Version:          new(p.Version),
			Tier:             new(p.Tier),
			Policies:         inlinePolicies(p.Policies),
			DataType:         new(p.DataType),
			KeyId:            nonEmpty(p.KeyID),
			Description:      nonEmpty(p.Description),
			AllowedPattern:   nonEmpty(p.AllowedPattern),
		}
		if m.Policies == nil {
			m.Policies = api.ParameterPolicyList{}
		}
		out.Parameters = append(out.Parameters, m)
	}
	return out, nil
}

// scanParameters returns up to limit parameters under prefix, after the
// name after, that keep says to keep, and a token when more follow.
func scanParameters(tx store.Tx, sc scope, prefix, after string, limit int, keep func(*parameter) bool) ([]parameter, *string, error) {
	opt := store.ScanOptions{Prefix: prefix}
	if after != "" {
		opt.After = sc.Key(after)
	}
	var page []parameter
	var next *string
	err := store.ScanJSON(tx, parametersTable, opt, func(_ string, p parameter, _ int64) error {
		if !keep(&p) {
			return nil
		}
		if len(page) == limit {
			next = awsproto.PageToken(page[len(page)-1].Name)
			return store.ErrStop
		}
		page = append(page, p)
		return nil
	})
	return page, next, err
}

// GetParametersByPath returns the parameters in a hierarchy, with values.
func (s *Service) GetParametersByPath(ctx context.Context, in *api.GetParametersByPathRequest) (*api.GetParametersByPathResult, error) {
	sc := overcast.ScopeOf(ctx)
	limit := awsproto.PageSize(in.MaxResults, 10)
	path, err := normalizePath(*in.Path)
	if err != nil {
		return nil, err
	}
	filters, err := parseFilters(in.ParameterFilters, []string{"Type", "KeyId", "Label"})
	if err != nil {
		return nil, err
	}
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	recursive := in.Recursive != nil && *in.Recursive
	prefix := sc.Prefix()
	if path != "/" {
		prefix = sc.Key(path + "/")
	}
	var labelFilter *filter
	for i := range filters {
		if filters[i].key == "Label" {
			labelFilter = &filters[i]
		}
	}
	var found []resolved
	var next *string
	err = s.Store.View(ctx, func(tx store.Tx) error {
		page, tok, err := scanParameters(tx, sc, prefix, after, limit, func(p *parameter) bool {
			return inPath(p.Name, path, recursive) && matchAll(filters, p)
		})
		if err != nil {
			return err
		}
		found, next = found[:0], tok
		for _, p := range page {
			res := resolved{name: p.Name, param: p, version: p.version}
			if labelFilter != nil {
				// A label filter selects the labelled version, not the latest.
				if want, _ := labelFilter.labelled(&p); want != p.Version {
					ver, err := getVersion(tx, sc, p.Name, want)
					if err != nil {
						return err
					}
					res.version = ver
				}
			}
			found = append(found, res)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	params, err := s.toParameters(sc, found, in.WithDecryption != nil && *in.WithDecryption)
	if err != nil {
		return nil, err
	}
	return &api.GetParametersByPathResult{Parameters: params, NextToken: next}, nil
}
