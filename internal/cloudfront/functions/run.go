package functions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// Run runs the function on ev. On success the Result holds the request to
// go on with or the response to send. When the function fails, the error
// is a *RuntimeError (it threw, or returned something CloudFront cannot
// use) or a *LimitError (it ran out of time or memory), and the Result
// still carries the logs and the compute utilization.
func (p *Program) Run(ctx context.Context, ev *Event) (*Result, error) {
	if ev.Request == nil {
		return nil, errors.New("functions: the event has no request")
	}
	if ev.Context.EventType == EventViewerResponse && ev.Response == nil {
		return nil, errors.New("functions: a viewer-response event has no response")
	}
	m, err := p.get()
	if err != nil {
		return nil, err
	}
	v, elapsed, runErr := m.run(ctx, m.vm.ToValue(eventValue(m.vm, ev)))
	res := &Result{ComputeUtilization: m.limits.utilization(elapsed)}
	if runErr == nil {
		var out *Result
		out, runErr = result(ev, v)
		if out != nil {
			res.Request, res.Response = out.Request, out.Response
		}
	}
	if len(m.logs) > 0 {
		res.Logs = slices.Clone(m.logs)
	}
	var limit *LimitError
	if errors.As(runErr, &limit) {
		res.ComputeUtilization = 100
	}
	if !m.failed() {
		p.put(m)
	}
	return res, runErr
}

// TestOutput is what TestFunction returns about a run.
type TestOutput struct {
	// FunctionOutput is the JSON of what the function returned:
	// {"request":{...}} or {"response":{...}}.
	FunctionOutput        string
	FunctionExecutionLogs []string
	FunctionErrorMessage  string
	// ComputeUtilization is a percentage, a string as in the API.
	ComputeUtilization string
}

// EventError is an EventObject that TestFunction cannot run a function on;
// the API reports it as InvalidArgument.
type EventError struct {
	Message string
}

func (e *EventError) Error() string { return e.Message }

// Test is TestFunction: it runs code on eventObject (the event's JSON) and
// reports the run as CloudFront does. A function that fails is a
// successful test whose FunctionErrorMessage says why; the error is for
// code that does not compile (*SyntaxError, ErrCodeTooLarge) and event
// objects that cannot be run (*EventError).
func Test(ctx context.Context, runtime string, code []byte, eventObject []byte) (TestOutput, error) {
	ev, err := parseEvent(eventObject)
	if err != nil {
		return TestOutput{}, err
	}
	p, err := Compile(runtime, code)
	if err != nil {
		return TestOutput{}, err
	}
	res, err := p.Run(ctx, ev)
	if err == nil {
		// The first run of a VM is slower than any later one; report the
		// compute utilization of a warm run, as the edge's runs are.
		res, err = p.Run(ctx, ev)
	}
	if res == nil {
		return TestOutput{}, err
	}
	out := TestOutput{
		FunctionExecutionLogs: res.Logs,
		ComputeUtilization:    strconv.Itoa(res.ComputeUtilization),
	}
	if out.FunctionExecutionLogs == nil {
		out.FunctionExecutionLogs = []string{}
	}
	if err != nil {
		out.FunctionErrorMessage = err.Error()
		return out, nil
	}
	var returned any = map[string]*Request{"request": res.Request}
	if res.Response != nil {
		returned = map[string]*Response{"response": res.Response}
	}
	b, err := json.Marshal(returned)
	if err != nil {
		return TestOutput{}, err
	}
	out.FunctionOutput = string(b)
	return out, nil
}

// parseEvent reads a test event object. distributionDomainName,
// distributionId and requestId may be left out, as in CloudFront.
func parseEvent(eventObject []byte) (*Event, error) {
	var ev Event
	dec := json.NewDecoder(bytes.NewReader(eventObject))
	if err := dec.Decode(&ev); err != nil {
		return nil, &EventError{Message: fmt.Sprintf("The event object is not valid JSON: %v", err)}
	}
	switch ev.Context.EventType {
	case EventViewerRequest, EventViewerResponse:
	default:
		return nil, &EventError{Message: fmt.Sprintf("The event object's context.eventType %q is neither %s nor %s", ev.Context.EventType, EventViewerRequest, EventViewerResponse)}
	}
	if ev.Request == nil {
		return nil, &EventError{Message: "The event object has no request"}
	}
	if ev.Context.EventType == EventViewerResponse && ev.Response == nil {
		return nil, &EventError{Message: "The event object of a viewer-response event has no response"}
	}
	if ev.Version == "" {
		ev.Version = "1.0"
	}
	return &ev, nil
}
