package cloudfront

import (
	"context"
	"errors"
	"slices"
	"strings"

	"overcast"
	api "overcast/internal/api/cloudfront"
	"overcast/internal/awsproto"
	"overcast/internal/cloudfront/edge"
	"overcast/internal/store"
)

// CloudFront Functions: code in two stages, DEVELOPMENT (what is created
// and updated) and LIVE (what PublishFunction copies it to, and what
// distributions run). Each stage has its own ETag; changes are guarded by
// the DEVELOPMENT one.

const (
	stageDevelopment = "DEVELOPMENT"
	stageLive        = "LIVE"
	// maxFunctionCode is CloudFront's quota on a function's code.
	maxFunctionCode = 10 * 1024
)

func (s *Service) functionARN(account, name string) string {
	return resourceARN(account, "function", name)
}

// stageETag is the ETag of a stage: DEVELOPMENT's is the record's.
func stageETag(name, stage string, version int64) string {
	if stage == stageLive {
		return etag(name+"@"+stageLive, version)
	}
	return etag(name, version)
}

// functionRefs are the functions a distribution's behaviours associate,
// by ARN.
func functionRefs(cfg *api.DistributionConfig) []string {
	var arns []string
	for _, b := range behaviors(cfg) {
		if b.FunctionAssociations != nil {
			for _, a := range b.FunctionAssociations.Items {
				arns = append(arns, strOr(a.FunctionARN, ""))
			}
		}
	}
	return arns
}

// liveFunction is the LIVE stage of the function arn names, for a
// behaviour that associates it.
func (s *Service) liveFunction(tx store.Tx, account, arn string) (edge.Function, error) {
	a, ok := overcast.ParseARN(arn)
	name, found := "", false
	if ok && a.AccountID == account {
		name, found = strings.CutPrefix(a.Resource, "function/")
	}
	if !found {
		return edge.Function{}, api.NewInvalidFunctionAssociation("The function ARN is not valid: %s", arn)
	}
	f, _, err := s.functions.get(tx, account, name)
	if err != nil || f.Live == nil {
		return edge.Function{}, api.NewInvalidFunctionAssociation("The function %s does not exist or is not published.", arn)
	}
	return edge.Function{Name: f.Name, ARN: f.ARN, Runtime: *f.Live.Config.Runtime, Code: f.Live.Code}, nil
}

// summary is the function as DescribeFunction answers it, at stage.
func (s *Service) functionSummary(tx store.Tx, account string, f *function, stage string) (*api.FunctionSummary, error) {
	st := &f.Development
	if stage == stageLive {
		st = f.Live
	}
	status := "UNPUBLISHED"
	if f.Live != nil {
		using, err := s.distributions.all(tx, account, func(d *distributionRecord) bool { return slices.Contains(functionRefs(d.Config), f.ARN) })
		if err != nil {
			return nil, err
		}
		status = map[bool]string{true: "ASSOCIATED", false: "UNASSOCIATED"}[len(using) > 0]
	}
	return &api.FunctionSummary{Name: &f.Name, Status: &status, FunctionConfig: st.Config, FunctionMetadata: &api.FunctionMetadata{
		FunctionARN: &f.ARN, Stage: new(stage), CreatedTime: new(f.Created), LastModifiedTime: new(st.Modified)}}, nil
}

func checkCode(code []byte) error {
	if len(code) > maxFunctionCode {
		return api.NewFunctionSizeLimitExceeded("The function code is larger than the maximum allowed size of %d bytes.", maxFunctionCode)
	}
	return nil
}

func (s *Service) CreateFunction(ctx context.Context, in *api.CreateFunctionRequest) (*api.CreateFunctionResult, error) {
	if err := checkCode(in.FunctionCode); err != nil {
		return nil, err
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	account, now := overcast.ScopeOf(ctx).Account, s.Now()
	f := &function{Name: *in.Name, ARN: s.functionARN(account, *in.Name), Created: now,
		Development: functionStage{Config: in.FunctionConfig, Code: in.FunctionCode, Modified: now}}
	var summary *api.FunctionSummary
	tag, err := s.functions.create(ctx, s.Store, f.Name, f, func(tx store.Tx) (err error) {
		if _, _, err := s.functions.get(tx, account, f.Name); err == nil {
			return api.NewFunctionAlreadyExists("A function with the name %s already exists.", f.Name)
		}
		if in.Tags != nil {
			if err := s.putTags(tx, account, f.ARN, in.Tags.Items); err != nil {
				return err
			}
		}
		summary, err = s.functionSummary(tx, account, f, stageDevelopment)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.CreateFunctionResult{FunctionSummary: summary, ETag: &tag, Location: s.location("function", f.ARN)}, nil
}

// atStage reads the function name at stage (DEVELOPMENT when empty) with
// the stage's ETag.
func (s *Service) atStage(ctx context.Context, name string, stage *string) (f *function, summary *api.FunctionSummary, tag string, err error) {
	account := overcast.ScopeOf(ctx).Account
	st := strOr(stage, stageDevelopment)
	err = s.Store.View(ctx, func(tx store.Tx) error {
		var version int64
		if f, version, err = s.functions.get(tx, account, name); err != nil {
			return err
		}
		if st == stageLive && f.Live == nil {
			return s.functions.notFound(name)
		}
		tag = stageETag(name, st, version)
		summary, err = s.functionSummary(tx, account, f, st)
		return err
	})
	return f, summary, tag, err
}

func (s *Service) DescribeFunction(ctx context.Context, in *api.DescribeFunctionRequest) (*api.DescribeFunctionResult, error) {
	_, summary, tag, err := s.atStage(ctx, *in.Name, in.Stage)
	if err != nil {
		return nil, err
	}
	return &api.DescribeFunctionResult{FunctionSummary: summary, ETag: &tag}, nil
}

func (s *Service) GetFunction(ctx context.Context, in *api.GetFunctionRequest) (*api.GetFunctionResult, error) {
	f, _, tag, err := s.atStage(ctx, *in.Name, in.Stage)
	if err != nil {
		return nil, err
	}
	code := f.Development.Code
	if strOr(in.Stage, stageDevelopment) == stageLive {
		code = f.Live.Code
	}
	return &api.GetFunctionResult{FunctionCode: code, ETag: &tag, ContentType: new("application/octet-stream")}, nil
}

// changeFunction changes the function name, guarded by the DEVELOPMENT
// ETag, and answers its summary at stage.
func (s *Service) changeFunction(ctx context.Context, name string, ifMatch *string, stage string, change func(f *function)) (*api.FunctionSummary, string, error) {
	account := overcast.ScopeOf(ctx).Account
	f, tag, err := s.functions.update(ctx, s.Store, name, ifMatch, func(_ store.Tx, f *function) error {
		change(f)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	var summary *api.FunctionSummary
	err = s.Store.View(ctx, func(tx store.Tx) (err error) {
		summary, err = s.functionSummary(tx, account, f, stage)
		return err
	})
	return summary, tag, err
}

func (s *Service) UpdateFunction(ctx context.Context, in *api.UpdateFunctionRequest) (*api.UpdateFunctionResult, error) {
	if err := checkCode(in.FunctionCode); err != nil {
		return nil, err
	}
	summary, tag, err := s.changeFunction(ctx, *in.Name, in.IfMatch, stageDevelopment, func(f *function) {
		f.Development = functionStage{Config: in.FunctionConfig, Code: in.FunctionCode, Modified: s.Now()}
	})
	if err != nil {
		return nil, err
	}
	return &api.UpdateFunctionResult{FunctionSummary: summary, ETag: &tag}, nil
}

// PublishFunction copies DEVELOPMENT to LIVE, and has every distribution
// that associates the function deployed again with the new code.
func (s *Service) PublishFunction(ctx context.Context, in *api.PublishFunctionRequest) (*api.PublishFunctionResult, error) {
	summary, _, err := s.changeFunction(ctx, *in.Name, in.IfMatch, stageLive, func(f *function) {
		live := f.Development
		live.Modified = s.Now()
		f.Live = &live
	})
	if err != nil {
		return nil, err
	}
	account := overcast.ScopeOf(ctx).Account
	err = s.Store.View(ctx, func(tx store.Tx) error {
		using, err := s.distributions.all(tx, account, func(d *distributionRecord) bool {
			return slices.Contains(functionRefs(d.Config), *summary.FunctionMetadata.FunctionARN)
		})
		for _, d := range using {
			s.deployments.Enqueue(accountKey(account, d.Value.ID))
		}
		return err
	})
	return &api.PublishFunctionResult{FunctionSummary: summary}, err
}

func (s *Service) DeleteFunction(ctx context.Context, in *api.DeleteFunctionRequest) error {
	account := overcast.ScopeOf(ctx).Account
	return s.functions.remove(ctx, s.Store, *in.Name, in.IfMatch, func(tx store.Tx, f *function, _ int64) error {
		used, err := distributionsUsing(functionRefs)(s, tx, account, f.ARN)
		if err == nil && used {
			err = api.NewFunctionInUse("Cannot delete function %s, it is associated with one or more cache behaviors.", f.Name)
		}
		if err != nil {
			return err
		}
		return s.deleteTags(tx, account, f.ARN)
	})
}

func (s *Service) ListFunctions(ctx context.Context, in *api.ListFunctionsRequest) (*api.ListFunctionsResult, error) {
	account := overcast.ScopeOf(ctx).Account
	stage := strOr(in.Stage, stageDevelopment)
	var out []api.FunctionSummary
	var p page[stored[function]]
	err := s.Store.View(ctx, func(tx store.Tx) error {
		all, err := s.functions.all(tx, account, func(f *function) bool { return stage != stageLive || f.Live != nil })
		if err != nil {
			return err
		}
		if p, err = list(all, func(f stored[function]) string { return f.Value.Name }, in.Marker, in.MaxItems); err != nil {
			return err
		}
		for _, f := range p.Items {
			summary, err := s.functionSummary(tx, account, f.Value, stage)
			if err != nil {
				return err
			}
			out = append(out, *summary)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.ListFunctionsResult{FunctionList: &api.FunctionList{NextMarker: p.NextMarker, MaxItems: p.MaxItems, Quantity: p.Quantity, Items: out}}, nil
}

// TestFunction runs the function at a stage on an event object, with the
// FunctionTester (the runtime), which answers 501 when there is none.
func (s *Service) TestFunction(ctx context.Context, in *api.TestFunctionRequest) (*api.TestFunctionResult, error) {
	if s.opts.Functions == nil {
		return nil, awsproto.NotImplemented("TestFunction")
	}
	f, summary, tag, err := s.atStage(ctx, *in.Name, in.Stage)
	if err != nil {
		return nil, err
	}
	if err := checkIfMatch(in.IfMatch, tag); err != nil {
		return nil, err
	}
	st := f.Development
	if strOr(in.Stage, stageDevelopment) == stageLive {
		st = *f.Live
	}
	out, err := s.opts.Functions.Test(ctx, strOr(st.Config.Runtime, "cloudfront-js-1.0"), st.Code, in.EventObject)
	if err != nil {
		var apiErr awsproto.APIError
		if errors.As(err, &apiErr) {
			return nil, err
		}
		return nil, api.NewTestFunctionFailed("The function test failed: %v", err)
	}
	res := &api.TestResult{FunctionSummary: summary, ComputeUtilization: new(out.ComputeUtilization), FunctionExecutionLogs: out.Logs}
	if out.ErrorMessage != "" {
		res.FunctionErrorMessage = new(out.ErrorMessage)
	}
	if out.Output != nil {
		res.FunctionOutput = new(string(out.Output))
	}
	return &api.TestFunctionResult{TestResult: res}, nil
}
