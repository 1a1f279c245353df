package functions

// Event is the object CloudFront passes to a function's handler. Its JSON
// form is exactly the event object of CloudFront's documentation (and of
// TestFunction's EventObject).
type Event struct {
	Version  string    `json:"version"`
	Context  Context   `json:"context"`
	Viewer   Viewer    `json:"viewer"`
	Request  *Request  `json:"request,omitempty"`
	Response *Response `json:"response,omitempty"`
}

// The event types a CloudFront Function can be associated with.
const (
	EventViewerRequest  = "viewer-request"
	EventViewerResponse = "viewer-response"
)

// Context describes the distribution and request the event belongs to.
type Context struct {
	DistributionDomainName string `json:"distributionDomainName,omitempty"`
	DistributionID         string `json:"distributionId,omitempty"`
	EventType              string `json:"eventType"`
	RequestID              string `json:"requestId,omitempty"`
}

// Viewer is the client that sent the request.
type Viewer struct {
	IP string `json:"ip"`
}

// Request is the viewer's request. Header names are lowercase; cookies are
// not among the headers but in Cookies.
type Request struct {
	Method      string           `json:"method"`
	URI         string           `json:"uri"`
	QueryString map[string]Value `json:"querystring"`
	Headers     map[string]Value `json:"headers"`
	Cookies     map[string]Value `json:"cookies"`
}

// Response is the response to the viewer. Set-Cookie headers are not among
// the headers but in Cookies, with their attributes. Body is nil unless a
// function set one: then it replaces the body from the cache or origin.
type Response struct {
	StatusCode        int              `json:"statusCode"`
	StatusDescription string           `json:"statusDescription,omitempty"`
	Headers           map[string]Value `json:"headers"`
	Cookies           map[string]Value `json:"cookies"`
	Body              *Body            `json:"body,omitempty"`
}

// Value is one query string parameter, header or cookie. When the name
// occurs more than once, Value is the first occurrence and MultiValue holds
// all of them, the first included. Attributes is only used by the cookies of
// a response: what follows name=value in Set-Cookie.
type Value struct {
	Value      string  `json:"value"`
	Attributes string  `json:"attributes,omitempty"`
	MultiValue []Value `json:"multiValue,omitempty"`
}

// Body is a response body a function generated.
type Body struct {
	Data     string `json:"data"`
	Encoding string `json:"encoding"` // "text" or "base64"
}

// Result is what a function run produced. Its maps may be the event's own
// where the function left them untouched.
type Result struct {
	// Request is set when a viewer-request function returned a request:
	// CloudFront goes on with it (same cache behaviour, new URI, headers...).
	Request *Request
	// Response is set when a viewer-request function generated a response
	// (the viewer gets it, no cache or origin involved: CloudFront logs
	// FunctionGeneratedResponse), or by a viewer-response function.
	Response *Response
	// ComputeUtilization is the run time as a percentage of the compute
	// budget, as TestFunction reports it (0-100).
	ComputeUtilization int
	// Logs are the lines the function wrote with console.log.
	Logs []string
}
