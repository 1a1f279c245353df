package ssm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"overcast"
	api "overcast/internal/api/ssm"
	"overcast/internal/awsproto"
	"overcast/internal/service"
	"overcast/internal/store"
)

// AWS's limits on values and versions.
const (
	maxStandardValue = 4096
	maxAdvancedValue = 8192
	maxVersions      = 100
	defaultKeyID     = "alias/aws/ssm"
	dataTypeText     = "text"
	dataTypeImage    = "aws:ec2:image"
	dataTypeIntegr   = "aws:ssm:integration"
	maxTags          = 50
)

var amiID = regexp.MustCompile(`^ami-([0-9a-f]{8}|[0-9a-f]{17})$`)

// PutParameter creates a parameter or, with Overwrite, adds a version.
func (s *Service) PutParameter(ctx context.Context, in *api.PutParameterRequest) (*api.PutParameterResult, error) {
	sc := overcast.ScopeOf(ctx)
	name, value := *in.Name, *in.Value
	overwrite := in.Overwrite != nil && *in.Overwrite
	if err := checkPutRequest(in); err != nil {
		return nil, err
	}
	if err := validateName(name); err != nil {
		return nil, err
	}
	if overwrite && len(in.Tags) > 0 {
		return nil, validationError("Invalid request: tags and overwrite can't be used together. To create a parameter with tags, " +
			"please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.")
	}
	caller := overcast.CallerFrom(ctx).ARN
	var out *api.PutParameterResult
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		old, storeVersion, err := getParameter(tx, sc, name)
		exists := err == nil
		switch {
		case isNotFound(err):
			storeVersion = 0
		case err != nil:
			return err
		}
		if exists && !overwrite {
			return api.NewParameterAlreadyExists("The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
		}
		if !exists && in.Type == nil {
			return validationError("A parameter type is required when you create a parameter.")
		}
		p := old
		if !exists {
			p = parameter{Name: name, Oldest: 1}
			for _, t := range in.Tags {
				p.Tags = service.SetTag(p.Tags, *t.Key, *t.Value)
			}
		}
		v, err := nextVersion(&old.version, exists, in, value)
		if err != nil {
			return err
		}
		v.Modified = s.Now().UTC()
		v.ModifiedBy = caller
		if exists {
			v.Version = old.Version + 1
			if v.Version-p.Oldest+1 > maxVersions {
				if l := p.labelsOf(p.Oldest); len(l) > 0 {
					return api.NewParameterMaxVersionLimitExceeded("You attempted to create a new version of %s by calling the PutParameter API "+
						"with the overwrite flag. Version %d, the oldest version, can't be deleted because it has a label associated with it. "+
						"Move the label to another version of the parameter, and try again.", name, p.Oldest)
				}
				if err := tx.Delete(historyTable, historyKey(sc, name, p.Oldest), store.AnyVersion); err != nil && !isNotFound(err) {
					return err
				}
				p.Oldest++
			}
		} else {
			v.Version = 1
		}
		if v.Type == api.ParameterTypeSecureString {
			v.Value, v.Sealed = "", s.sealer.Seal([]byte(value), sealContext(sc, name, v.Version))
		} else {
			v.Value, v.Sealed = value, nil
		}
		p.version = v
		if _, err := store.PutJSON(tx, historyTable, historyKey(sc, name, v.Version), v, 0); err != nil {
			return err
		}
		if _, err := store.PutJSON(tx, parametersTable, sc.Key(name), p, storeVersion); err != nil {
			return err
		}
		out = &api.PutParameterResult{Version: new(v.Version), Tier: new(v.Tier)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkPutRequest checks the two members the codec leaves to SSM (see
// awsproto's validation policy for ssm): AWS words these failures its own
// way, a full stop after the first and its own order of the type's values
// after the second.
func checkPutRequest(in *api.PutParameterRequest) error {
	var problems []string
	if len(*in.Value) < 1 {
		problems = append(problems, "Value '' at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1.")
	}
	if in.Type != nil && !slices.Contains([]string{api.ParameterTypeString, api.ParameterTypeStringList, api.ParameterTypeSecureString}, *in.Type) {
		problems = append(problems, fmt.Sprintf("Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]", *in.Type))
	}
	if len(problems) == 0 {
		return nil
	}
	return validationError("%s", awsproto.ValidationMessage(problems))
}

// nextVersion builds the version a PutParameter writes: what the request
// says, and for an overwrite, what the latest version had for everything
// the request leaves out.
func nextVersion(old *version, exists bool, in *api.PutParameterRequest, value string) (version, error) {
	var v version
	if exists {
		v = *old
	}
	overwrite(&v.Type, in.Type)
	overwrite(&v.Description, in.Description)
	overwrite(&v.AllowedPattern, in.AllowedPattern)
	overwrite(&v.Policies, in.Policies)
	switch {
	case v.Type != api.ParameterTypeSecureString:
		v.KeyID = ""
	case in.KeyId != nil:
		v.KeyID = *in.KeyId
	case !exists || old.Type != api.ParameterTypeSecureString || v.KeyID == "":
		v.KeyID = defaultKeyID
	}
	if in.DataType != nil && *in.DataType != "" {
		v.DataType = *in.DataType
	}
	if v.DataType == "" {
		v.DataType = dataTypeText
	}
	if err := checkDataType(v.Type, v.DataType, value); err != nil {
		return v, err
	}
	if v.AllowedPattern != "" {
		re, err := regexp.Compile(`^(?:` + v.AllowedPattern + `)$`)
		if err != nil {
			return v, api.NewInvalidAllowedPatternException("The allowed pattern %s is not a valid regular expression.", v.AllowedPattern)
		}
		if !re.MatchString(value) {
			return v, api.NewParameterPatternMismatchException("Parameter value, cannot be validated against allowedPattern: %s", v.AllowedPattern)
		}
	}
	policies, err := parsePolicies(v.Policies)
	if err != nil {
		return v, err
	}
	tier, err := chooseTier(in.Tier, old.Tier, exists, len(value), len(policies) > 0)
	if err != nil {
		return v, err
	}
	v.Tier = tier
	return v, nil
}

// overwrite sets *field to what the request says, when it says anything.
func overwrite(field, requested *string) {
	if requested != nil {
		*field = *requested
	}
}

func checkDataType(typ, dataType, value string) error {
	switch dataType {
	case dataTypeText:
	case dataTypeImage:
		if typ != api.ParameterTypeString {
			return api.NewUnsupportedParameterType("The aws:ec2:image data type is only supported for parameters of type String.")
		}
		if !amiID.MatchString(value) {
			return validationError("Invalid AMI ID format for the aws:ec2:image data type: %s. The value must be an AMI ID such as ami-12345abcdeEXAMPLE.", value)
		}
	case dataTypeIntegr:
		if typ != api.ParameterTypeSecureString {
			return api.NewUnsupportedParameterType("The aws:ssm:integration data type is only supported for parameters of type SecureString.")
		}
	default:
		return validationError("The following data type is not supported: %s (Data type names are all lowercase.)", dataType)
	}
	return nil
}

// chooseTier resolves the tier a version is stored in. An advanced
// parameter never goes back to standard, whatever the request says;
// Intelligent-Tiering picks advanced only when the value or policies need it.
func chooseTier(requested *string, oldTier string, exists bool, valueLen int, hasPolicies bool) (string, error) {
	wasAdvanced := exists && oldTier == api.ParameterTierAdvanced
	tier := api.ParameterTierStandard
	switch {
	case requested != nil:
		tier = *requested
	case exists:
		tier = oldTier
	}
	if tier == api.ParameterTierIntelligentTiering {
		tier = api.ParameterTierStandard
		if wasAdvanced || valueLen > maxStandardValue || hasPolicies {
			tier = api.ParameterTierAdvanced
		}
	}
	if tier == api.ParameterTierStandard && wasAdvanced {
		if requested != nil {
			return "", validationError("This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the " +
				"advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and " +
				"recreate it as a standard parameter.")
		}
		tier = api.ParameterTierAdvanced
	}
	switch {
	case tier == api.ParameterTierStandard && valueLen > maxStandardValue:
		return "", validationError("Standard tier parameters support a maximum parameter value of %d characters. To create a larger "+
			"parameter value, upgrade the parameter to use the advanced-parameter tier.", maxStandardValue)
	case valueLen > maxAdvancedValue:
		return "", validationError("Advanced tier parameters support a maximum parameter value of %d characters.", maxAdvancedValue)
	case tier == api.ParameterTierStandard && hasPolicies:
		return "", validationError("Parameter policies are supported only for parameters in the advanced-parameter tier.")
	}
	return tier, nil
}

// policy is one parameter policy, as PutParameter's Policies JSON holds it.
type policy struct {
	Type string          `json:"Type"`
	raw  json.RawMessage // the policy's own text, reported back as PolicyText
}

var policyTypes = []string{"Expiration", "ExpirationNotification", "NoChangeNotification"}

// parsePolicies checks a Policies document. Policies are stored and
// reported; overcast does not act on them (no expiry, no notifications).
func parsePolicies(text string) ([]policy, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	var raws []json.RawMessage
	if err := json.Unmarshal([]byte(text), &raws); err != nil {
		return nil, api.NewInvalidPolicyAttributeException("The policies document is not a valid JSON array of policies: %v", err)
	}
	out := make([]policy, 0, len(raws))
	for _, r := range raws {
		var p policy
		if err := json.Unmarshal(r, &p); err != nil {
			return nil, api.NewInvalidPolicyAttributeException("A policy is not a valid JSON object: %v", err)
		}
		if !slices.Contains(policyTypes, p.Type) {
			return nil, api.NewInvalidPolicyTypeException("The policy type %q isn't supported. Parameter Store supports the following "+
				"policy types: Expiration, ExpirationNotification, and NoChangeNotification.", p.Type)
		}
		p.raw = r
		out = append(out, p)
	}
	if len(out) > 10 {
		return nil, api.NewPoliciesLimitExceededException("You can specify a maximum of 10 policies for a parameter.")
	}
	return out, nil
}

func inlinePolicies(text string) api.ParameterPolicyList {
	ps, _ := parsePolicies(text)
	var out api.ParameterPolicyList
	for _, p := range ps {
		out = append(out, api.ParameterInlinePolicy{PolicyText: new(string(p.raw)), PolicyType: new(p.Type), PolicyStatus: new("Pending")})
	}
	return out
}

// resolved is a parameter version a ref selected.
type resolved struct {
	name     string
	param    parameter
	version  version
	selector string
}

// resolve is lookup in a read transaction of its own.
func (s *Service) resolve(ctx context.Context, r ref) (resolved, error) {
	var res resolved
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		res, err = lookup(tx, r)
		return err
	})
	return res, err
}

// lookup resolves r in tx to one version of one parameter.
func lookup(tx store.Tx, r ref) (resolved, error) {
	var p parameter
	var name string
	found := false
	for _, n := range r.names {
		var err error
		p, _, err = getParameter(tx, r.scope, n)
		if err == nil {
			name, found = n, true
			break
		}
		if !isNotFound(err) {
			return resolved{}, err
		}
	}
	if !found {
		return resolved{}, parameterNotFound(r.raw)
	}
	out := resolved{name: name, param: p, version: p.version}
	if r.selector == "" {
		return out, nil
	}
	out.selector = ":" + r.selector
	want, isVersion := selectorVersion(r.selector)
	if !isVersion {
		v, ok := p.labelVersion(r.selector)
		if !ok {
			return resolved{}, parameterNotFound(r.raw)
		}
		want = v
	}
	if want == p.Version {
		return out, nil
	}
	if err := p.checkVersion(want); err != nil {
		return resolved{}, err
	}
	v, err := getVersion(tx, r.scope, name, want)
	if isNotFound(err) {
		return resolved{}, versionNotFound(name, want)
	}
	if err != nil {
		return resolved{}, err
	}
	out.version = v
	return out, nil
}

// localRef parses a reference for an API call: ARNs must name the caller's
// own account and region, where its parameters are.
func localRef(sc scope, s string) (ref, bool) {
	r, ok := parseRef(sc, s)
	return r, ok && r.scope == sc
}

// toParameters is toParameter of each of found.
func (s *Service) toParameters(sc scope, found []resolved, decrypt bool) (api.ParameterList, error) {
	out := api.ParameterList{}
	for _, res := range found {
		p, err := s.toParameter(sc, res, decrypt)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func (s *Service) toParameter(sc scope, res resolved, decrypt bool) (api.Parameter, error) {
	value, err := s.value(sc, res.name, &res.version, decrypt)
	if err != nil {
		return api.Parameter{}, err
	}
	out := api.Parameter{
		Name:             new(res.name),
		Type:             new(res.version.Type),
		Value:            &value,
		Version:          new(res.version.Version),
		LastModifiedDate: new(res.version.Modified),
		ARN:              new(parameterARN(sc, res.name)),
		DataType:         new(res.version.DataType),
	}
	if res.selector != "" {
		out.Selector = new(res.selector)
	}
	return out, nil
}

// GetParameter returns one parameter version's value.
func (s *Service) GetParameter(ctx context.Context, in *api.GetParameterRequest) (*api.GetParameterResult, error) {
	sc := overcast.ScopeOf(ctx)
	r, ok := localRef(sc, *in.Name)
	if !ok {
		return nil, &api.ParameterNotFound{}
	}
	res, err := s.resolve(ctx, r)
	if err != nil {
		return nil, withoutMessage(err)
	}
	p, err := s.toParameter(sc, res, in.WithDecryption != nil && *in.WithDecryption)
	if err != nil {
		return nil, err
	}
	return &api.GetParameterResult{Parameter: &p}, nil
}

// GetParameters returns up to ten parameters; names that match nothing come
// back in InvalidParameters rather than failing the call.
func (s *Service) GetParameters(ctx context.Context, in *api.GetParametersRequest) (*api.GetParametersResult, error) {
	sc := overcast.ScopeOf(ctx)
	out := &api.GetParametersResult{InvalidParameters: api.ParameterNameList{}}
	var found []resolved
	err := s.Store.View(ctx, func(tx store.Tx) error {
		found = found[:0]
		out.InvalidParameters = out.InvalidParameters[:0]
		seen := map[string]bool{}
		for _, n := range in.Names {
			if seen[n] {
				continue
			}
			seen[n] = true
			r, ok := localRef(sc, n)
			if !ok {
				out.InvalidParameters = append(out.InvalidParameters, n)
				continue
			}
			res, err := lookup(tx, r)
			var notFound *api.ParameterNotFound
			var versionMissing *api.ParameterVersionNotFound
			switch {
			case errors.As(err, &notFound), errors.As(err, &versionMissing):
				out.InvalidParameters = append(out.InvalidParameters, n)
			case err != nil:
				return err
			default:
				found = append(found, res)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if out.Parameters, err = s.toParameters(sc, found, in.WithDecryption != nil && *in.WithDecryption); err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteParameter deletes a parameter and all its versions.
func (s *Service) DeleteParameter(ctx context.Context, in *api.DeleteParameterRequest) (*api.DeleteParameterResult, error) {
	sc := overcast.ScopeOf(ctx)
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		deleted, err := deleteParameter(tx, sc, *in.Name)
		if err == nil && !deleted {
			return &api.ParameterNotFound{}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteParameterResult{}, nil
}

// DeleteParameters deletes up to ten parameters, reporting which existed.
func (s *Service) DeleteParameters(ctx context.Context, in *api.DeleteParametersRequest) (*api.DeleteParametersResult, error) {
	sc := overcast.ScopeOf(ctx)
	var out *api.DeleteParametersResult
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		out = &api.DeleteParametersResult{DeletedParameters: api.ParameterNameList{}, InvalidParameters: api.ParameterNameList{}}
		for _, n := range in.Names {
			deleted, err := deleteParameter(tx, sc, n)
			if err != nil {
				return err
			}
			if deleted {
				out.DeletedParameters = append(out.DeletedParameters, n)
			} else {
				out.InvalidParameters = append(out.InvalidParameters, n)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// deleteParameter deletes the parameter a name or ARN names, reporting
// whether there was one.
func deleteParameter(tx store.Tx, sc scope, nameOrARN string) (bool, error) {
	r, ok := localRef(sc, nameOrARN)
	if !ok || r.selector != "" {
		return false, nil
	}
	for _, name := range r.names {
		err := tx.Delete(parametersTable, sc.Key(name), store.AnyVersion)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return false, err
		}
		if _, err := store.DeleteScanned(tx, historyTable, store.ScanOptions{Prefix: historyPrefix(sc, name)}); err != nil {
			return false, err
		}
		return true, nil
	}
	return false, nil
}

// GetParameterHistory lists a parameter's retained versions, oldest first.
func (s *Service) GetParameterHistory(ctx context.Context, in *api.GetParameterHistoryRequest) (*api.GetParameterHistoryResult, error) {
	sc := overcast.ScopeOf(ctx)
	limit := awsproto.PageSize(in.MaxResults, 50)
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	r, ok := localRef(sc, *in.Name)
	if !ok || r.selector != "" {
		return nil, parameterNotFound(*in.Name)
	}
	var p parameter
	var name string
	var versions []version
	var next *string
	err = s.Store.View(ctx, func(tx store.Tx) error {
		res, err := lookup(tx, r)
		if err != nil {
			return err
		}
		p, name = res.param, res.name
		opt := store.ScanOptions{Prefix: historyPrefix(sc, name), Limit: limit + 1}
		if after != "" {
			opt.After = historyPrefix(sc, name) + after
		}
		versions, next = versions[:0], nil
		return store.ScanJSON(tx, historyTable, opt, func(key string, ver version, _ int64) error {
			if len(versions) == limit {
				last := versions[len(versions)-1]
				next = awsproto.PageToken(strings.TrimPrefix(historyKey(sc, name, last.Version), historyPrefix(sc, name)))
				return store.ErrStop
			}
			versions = append(versions, ver)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	decrypt := in.WithDecryption != nil && *in.WithDecryption
	out := &api.GetParameterHistoryResult{Parameters: api.ParameterHistoryList{}, NextToken: next}
	for i := range versions {
		ver := &versions[i]
		value, err := s.value(sc, name, ver, decrypt)
		if err != nil {
			return nil, err
		}
		h := api.ParameterHistory{
			Name:             new(name),
			Type:             new(ver.Type),
			LastModifiedDate: new(ver.Modified),
			LastModifiedUser: new(ver.ModifiedBy),
			Value:            &value,
			Version:          new(ver.Version),
			Labels:           p.labelsOf(ver.Version),
			Tier:             new(ver.Tier),
			Policies:         inlinePolicies(ver.Policies),
			DataType:         new(ver.DataType),
			KeyId:            nonEmpty(ver.KeyID),
			Description:      nonEmpty(ver.Description),
			AllowedPattern:   nonEmpty(ver.AllowedPattern),
		}
		out.Parameters = append(out.Parameters, h)
	}
	return out, nil
}

// LabelParameterVersion attaches labels to a version, moving any that are
// attached to another version of the parameter.
func (s *Service) LabelParameterVersion(ctx context.Context, in *api.LabelParameterVersionRequest) (*api.LabelParameterVersionResult, error) {
	sc := overcast.ScopeOf(ctx)
	name := *in.Name
	var out *api.LabelParameterVersionResult
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		p, storeVersion, err := namedParameter(tx, sc, name)
		if err != nil {
			return err
		}
		target := p.Version
		if in.ParameterVersion != nil {
			target = *in.ParameterVersion
		}
		if err := p.checkVersion(target); err != nil {
			return err
		}
		labels, invalid := applyLabels(p.Labels, target, in.Labels)
		if len(labelsAt(labels, target)) > maxLabelsPerVersion {
			return api.NewParameterVersionLabelLimitExceeded("A parameter version can have maximum %d labels.Move one or more labels to another version and try again.", maxLabelsPerVersion)
		}
		p.Labels = labels
		if _, err := store.PutJSON(tx, parametersTable, sc.Key(name), p, storeVersion); err != nil {
			return err
		}
		out = &api.LabelParameterVersionResult{InvalidLabels: invalid, ParameterVersion: new(target)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// applyLabels attaches the valid labels among add to version target: a
// label already on another version moves, one already on target stays
// where it is in the order. Invalid labels are returned, not applied.
func applyLabels(labels []label, target int64, add []string) (out []label, invalid []string) {
	out = slices.Clone(labels)
	invalid = []string{}
	for _, name := range add {
		if !validLabel(name) {
			if !slices.Contains(invalid, name) {
				invalid = append(invalid, name)
			}
			continue
		}
		i := slices.IndexFunc(out, func(l label) bool { return l.Name == name })
		switch {
		case i >= 0 && out[i].Version == target:
		case i >= 0:
			out = slices.Delete(out, i, i+1)
			out = append(out, label{Name: name, Version: target})
		default:
			out = append(out, label{Name: name, Version: target})
		}
	}
	return out, invalid
}

func labelsAt(labels []label, v int64) []string {
	var out []string
	for _, l := range labels {
		if l.Version == v {
			out = append(out, l.Name)
		}
	}
	return out
}

// UnlabelParameterVersion removes labels from a version.
func (s *Service) UnlabelParameterVersion(ctx context.Context, in *api.UnlabelParameterVersionRequest) (*api.UnlabelParameterVersionResult, error) {
	sc := overcast.ScopeOf(ctx)
	name, target := *in.Name, *in.ParameterVersion
	var out *api.UnlabelParameterVersionResult
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		p, storeVersion, err := namedParameter(tx, sc, name)
		if err != nil {
			return err
		}
		if err := p.checkVersion(target); err != nil {
			return err
		}
		out = &api.UnlabelParameterVersionResult{RemovedLabels: api.ParameterLabelList{}, InvalidLabels: api.ParameterLabelList{}}
		for _, l := range in.Labels {
			i := slices.IndexFunc(p.Labels, func(x label) bool { return x.Name == l && x.Version == target })
			if i < 0 {
				out.InvalidLabels = append(out.InvalidLabels, l)
				continue
			}
			p.Labels = slices.Delete(p.Labels, i, i+1)
			out.RemovedLabels = append(out.RemovedLabels, l)
		}
		if len(out.RemovedLabels) == 0 {
			return nil
		}
		_, err = store.PutJSON(tx, parametersTable, sc.Key(name), p, storeVersion)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
