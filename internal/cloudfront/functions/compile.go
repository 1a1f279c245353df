package functions

import (
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"sync"

	"github.com/dop251/goja"
	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/parser"
)

// The runtimes a CloudFront Function can declare.
const (
	Runtime1 = "cloudfront-js-1.0"
	Runtime2 = "cloudfront-js-2.0"
)

// MaxCodeSize is CloudFront's quota on a function's code, in bytes.
const MaxCodeSize = 10 * 1024

// Program is compiled function code, ready to run; it is safe for
// concurrent use.
type Program struct {
	runtime string
	code    *goja.Program
	limits  limits

	// idle holds VMs with the code loaded: creating one costs half a
	// millisecond, fifty trivial runs. Not a sync.Pool, which a garbage
	// collection empties: under load that would be every few milliseconds.
	mu   sync.Mutex
	idle []*machine
}

// maxIdle is how many idle VMs a Program keeps; runs beyond that many at
// once make VMs that are dropped afterwards.
var maxIdle = max(8, 2*runtime.GOMAXPROCS(0))

// Compile checks code as CloudFront's runtime does when a function is
// created or updated: its size, its syntax (cloudfront-js-1.0 refuses the
// let, const, async/await and class syntax it does not support) and that it
// defines a handler function. The code runs in strict mode, as in
// CloudFront.
func Compile(runtime string, code []byte) (*Program, error) {
	if runtime != Runtime1 && runtime != Runtime2 {
		return nil, fmt.Errorf("%w %q: want %s or %s", ErrUnknownRuntime, runtime, Runtime1, Runtime2)
	}
	if len(code) > MaxCodeSize {
		return nil, ErrCodeTooLarge
	}
	tree, err := parser.ParseFile(nil, "index.js", string(code), 0)
	if err != nil {
		return nil, &SyntaxError{Message: "SyntaxError: " + err.Error()}
	}
	if runtime == Runtime1 {
		if msg := unsupportedIn1(tree); msg != "" {
			return nil, &SyntaxError{Message: msg}
		}
	}
	compiled, err := goja.CompileAST(tree, true)
	if err != nil {
		return nil, &SyntaxError{Message: "SyntaxError: " + err.Error()}
	}
	p := &Program{runtime: runtime, code: compiled, limits: defaultLimits}
	// Loading the code once finds a missing handler now rather than on the
	// first viewer's request, and leaves a ready VM in the pool.
	m, err := p.newMachine()
	if err != nil {
		return nil, err
	}
	p.put(m)
	return p, nil
}

// unsupportedIn1 names the first construct of the tree that
// cloudfront-js-1.0 does not support, or returns "".
func unsupportedIn1(tree *ast.Program) string {
	var found string
	walk(reflect.ValueOf(tree), func(n any) bool {
		switch n := n.(type) {
		case *ast.LexicalDeclaration:
			found = fmt.Sprintf("SyntaxError: %s declarations are not supported in %s", n.Token, Runtime1)
		case *ast.FunctionLiteral:
			if n.Async {
				found = "SyntaxError: async functions are not supported in " + Runtime1
			}
			if n.Generator {
				found = "SyntaxError: generator functions are not supported in " + Runtime1
			}
		case *ast.ArrowFunctionLiteral:
			if n.Async {
				found = "SyntaxError: async functions are not supported in " + Runtime1
			}
		case *ast.AwaitExpression:
			found = "SyntaxError: await is not supported in " + Runtime1
		case *ast.ClassLiteral:
			found = "SyntaxError: classes are not supported in " + Runtime1
		}
		return found == ""
	})
	return found
}

var nodeType = reflect.TypeFor[ast.Node]()

// walk calls visit for every AST node under v, depth first, until visit
// returns false. goja's ast package has no walker; reflection keeps this
// independent of its many node types and only runs when code is compiled.
func walk(v reflect.Value, visit func(any) bool) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return true
		}
		if v.Kind() == reflect.Pointer && v.Type().Implements(nodeType) && !visit(v.Interface()) {
			return false
		}
		return walk(v.Elem(), visit)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() && !walk(v.Field(i), visit) {
				return false
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			if !walk(v.Index(i), visit) {
				return false
			}
		}
	}
	return true
}

// get returns an idle machine, or a new one.
func (p *Program) get() (*machine, error) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		m := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return m, nil
	}
	p.mu.Unlock()
	return p.newMachine()
}

// put makes m available to later runs.
func (p *Program) put(m *machine) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle) < maxIdle {
		p.idle = append(p.idle, m)
	}
}

// newMachine makes a VM with CloudFront's globals and the function's code
// loaded.
func (p *Program) newMachine() (*machine, error) {
	m := &machine{vm: goja.New(), limits: p.limits}
	m.setup(p.runtime == Runtime2)
	if err := m.load(p.code); err != nil {
		return nil, &SyntaxError{Message: "The function could not be loaded: " + err.Error()}
	}
	handler, ok := goja.AssertFunction(m.vm.Get("handler"))
	if !ok {
		return nil, &SyntaxError{Message: "The function code must define a function named handler"}
	}
	m.handler = handler
	return m, nil
}

// errorMessage is the message TestFunction shows for a JavaScript error:
// the exception and where it was thrown.
func errorMessage(err error) string {
	return strings.TrimSpace(err.Error())
}
