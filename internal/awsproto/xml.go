package awsproto

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// xmlNode is a parsed XML element: enough of a DOM for the shape-directed
// decoder, which needs to look children up by name and keep their order.
type xmlNode struct {
	name     string // local name
	attrs    []xml.Attr
	children []*xmlNode
	text     strings.Builder
}

// child returns the first child called name.
func (n *xmlNode) child(name string) *xmlNode {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// maxXMLDepth bounds nesting so a hostile document cannot exhaust the stack.
const maxXMLDepth = 256

// parseXML reads one XML document and returns its root element.
func parseXML(r io.Reader) (*xmlNode, error) {
	dec := xml.NewDecoder(r)
	dec.Strict = true
	var stack []*xmlNode
	var root *xmlNode
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxXMLDepth {
				return nil, fmt.Errorf("XML nested deeper than %d elements", maxXMLDepth)
			}
			n := &xmlNode{name: t.Name.Local, attrs: t.Attr}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			} else if root != nil {
				return nil, fmt.Errorf("XML document has more than one root element")
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, fmt.Errorf("text outside the root element")
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("no XML root element")
	}
	return root, nil
}

// localName strips a namespace prefix: "xsi:type" → "type".
func localName(s string) string {
	if i := strings.IndexByte(s, ':'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// setXMLStruct fills the structure v (plan t) from the children of n.
// scope selects the members that travel in the body.
func setXMLStruct(t *typeInfo, v reflect.Value, n *xmlNode, scope scope) error {
	for _, m := range t.members {
		if !scope.includes(m) {
			continue
		}
		f := v.Field(m.index)
		if m.attr {
			want := localName(m.xmlName())
			for _, a := range n.attrs {
				if a.Name.Local == want {
					if err := setScalar(m.t, alloc(f), a.Value, orDefault(m.tsFormat, tsISO8601)); err != nil {
						return fmt.Errorf("%s: %w", m.name, err)
					}
				}
			}
			continue
		}
		if m.flattened && (m.t.kind == kindList || m.t.kind == kindMap) {
			// Accept the items under either naming convention (flatName).
			name, alt := m.flatName(), m.xmlName()
			var items []*xmlNode
			for _, c := range n.children {
				if c.name == name || c.name == alt {
					items = append(items, c)
				}
			}
			if len(items) == 0 {
				continue
			}
			var err error
			if m.t.kind == kindList {
				err = setXMLList(m.t, f, items)
			} else {
				err = setXMLMap(m.t, f, items)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			continue
		}
		c := n.child(m.xmlName())
		if c == nil {
			continue
		}
		if err := setXMLValue(m.t, f, c, m.tsFormat); err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
	}
	return nil
}

// setXMLValue decodes element n into field f.
func setXMLValue(t *typeInfo, f reflect.Value, n *xmlNode, tsFormat string) error {
	switch t.kind {
	case kindStruct:
		return setXMLStruct(t, alloc(f), n, allMembers)
	case kindList:
		return setXMLList(t, f, n.children)
	case kindMap:
		return setXMLMap(t, f, n.children)
	case kindDocument, kindStream:
		return fmt.Errorf("cannot decode %s from XML", t.rtype)
	}
	return setScalar(t, alloc(f), n.text.String(), orDefault(tsFormat, tsISO8601))
}

func setXMLList(t *typeInfo, f reflect.Value, items []*xmlNode) error {
	list := reflect.MakeSlice(t.rtype, 0, len(items))
	for i, item := range items {
		ev := reflect.New(t.elem.rtype).Elem()
		if err := setXMLValue(t.elem, ev, item, t.coll.Member.TimestampFormat); err != nil {
			return fmt.Errorf("[%d]: %w", i, err)
		}
		list = reflect.Append(list, ev)
	}
	f.Set(list)
	return nil
}

// setXMLMap decodes map entries: each item holds a key and a value element.
func setXMLMap(t *typeInfo, f reflect.Value, items []*xmlNode) error {
	keyName := orDefault(t.coll.Key.LocationName, "key")
	valueName := orDefault(t.coll.Value.LocationName, "value")
	if f.IsNil() {
		f.Set(reflect.MakeMapWithSize(t.rtype, len(items)))
	}
	for _, item := range items {
		k, v := item.child(keyName), item.child(valueName)
		if k == nil {
			return fmt.Errorf("map entry without a %s element", keyName)
		}
		ev := reflect.New(t.elem.rtype).Elem()
		if v != nil {
			if err := setXMLValue(t.elem, ev, v, t.coll.Value.TimestampFormat); err != nil {
				return fmt.Errorf("[%q]: %w", k.text.String(), err)
			}
		}
		f.SetMapIndex(reflect.ValueOf(k.text.String()).Convert(t.rtype.Key()), ev)
	}
	return nil
}

// xmlWriter builds an XML document in a byte slice.
type xmlWriter struct{ b []byte }

func (w *xmlWriter) open(name string, ns XMLNamespace, attrs []string) {
	w.b = append(w.b, '<')
	w.b = append(w.b, name...)
	if ns.URI != "" {
		if ns.Prefix != "" {
			w.b = append(w.b, " xmlns:"...)
			w.b = append(w.b, ns.Prefix...)
		} else {
			w.b = append(w.b, " xmlns"...)
		}
		w.b = append(w.b, `="`...)
		w.text(ns.URI)
		w.b = append(w.b, '"')
	}
	for i := 0; i+1 < len(attrs); i += 2 {
		w.b = append(w.b, ' ')
		w.b = append(w.b, attrs[i]...)
		w.b = append(w.b, `="`...)
		w.text(attrs[i+1])
		w.b = append(w.b, '"')
	}
	w.b = append(w.b, '>')
}

func (w *xmlWriter) close(name string) {
	w.b = append(w.b, "</"...)
	w.b = append(w.b, name...)
	w.b = append(w.b, '>')
}

func (w *xmlWriter) element(name, text string) {
	w.open(name, XMLNamespace{}, nil)
	w.text(text)
	w.close(name)
}

// text escapes s; carriage returns and tabs are escaped too so they survive
// a parser's line-ending normalization.
func (w *xmlWriter) text(s string) {
	var buf bytes.Buffer
	xml.EscapeText(&buf, []byte(s))
	w.b = append(w.b, buf.Bytes()...)
}

// structMembers writes the body members of the structure v as child elements.
func (w *xmlWriter) structMembers(t *typeInfo, v reflect.Value, scope scope) {
	for _, m := range t.members {
		if m.attr || !scope.includes(m) {
			continue
		}
		f := v.Field(m.index)
		if !isSet(f) || m.t.kind == kindStream || m.t.kind == kindDocument {
			continue
		}
		w.member(m, f)
	}
}

// member writes one structure member.
func (w *xmlWriter) member(m *member, f reflect.Value) {
	name := m.xmlName()
	switch {
	case m.t.kind == kindList && m.flattened:
		name = m.flatName()
		ns := m.ns
		if m.t.coll.Member.NS.URI != "" {
			ns = m.t.coll.Member.NS
		}
		for i := 0; i < f.Len(); i++ {
			w.value(name, ns, m.t.elem, f.Index(i), m.t.coll.Member.TimestampFormat)
		}
	case m.t.kind == kindMap && m.flattened:
		for _, k := range sortedMapKeys(f) {
			w.open(name, m.ns, nil)
			w.mapEntry(m.t, k, f.MapIndex(k))
			w.close(name)
		}
	default:
		w.value(name, m.ns, m.t, f, m.tsFormat)
	}
}

// value writes v as the element name.
func (w *xmlWriter) value(name string, ns XMLNamespace, t *typeInfo, v reflect.Value, tsFormat string) {
	v = elemOf(v)
	if !v.IsValid() {
		return
	}
	switch t.kind {
	case kindStruct:
		w.structElement(name, ns, t, v, allMembers)
	case kindList:
		w.open(name, ns, nil)
		itemName := orDefault(t.coll.Member.LocationName, "member")
		for i := 0; i < v.Len(); i++ {
			w.value(itemName, t.coll.Member.NS, t.elem, v.Index(i), t.coll.Member.TimestampFormat)
		}
		w.close(name)
	case kindMap:
		w.open(name, ns, nil)
		for _, k := range sortedMapKeys(v) {
			w.open("entry", XMLNamespace{}, nil)
			w.mapEntry(t, k, v.MapIndex(k))
			w.close("entry")
		}
		w.close(name)
	case kindDocument, kindStream:
	default:
		w.open(name, ns, nil)
		w.text(scalarString(t, v, orDefault(tsFormat, tsISO8601)))
		w.close(name)
	}
}

// structElement writes the structure v as the element name, its xmlAttribute
// members as attributes and the members in scope as children.
func (w *xmlWriter) structElement(name string, ns XMLNamespace, t *typeInfo, v reflect.Value, scope scope) {
	if ns.URI == "" {
		ns = t.ns
	}
	var attrs []string
	for _, m := range t.members {
		if f := v.Field(m.index); m.attr && isSet(f) {
			if m.ns.URI != "" && m.ns.Prefix != "" {
				attrs = append(attrs, "xmlns:"+m.ns.Prefix, m.ns.URI)
			}
			attrs = append(attrs, m.wireName(), scalarString(m.t, elemOf(f), orDefault(m.tsFormat, tsISO8601)))
		}
	}
	w.open(name, ns, attrs)
	w.structMembers(t, v, scope)
	w.close(name)
}

func (w *xmlWriter) mapEntry(t *typeInfo, k, v reflect.Value) {
	keyName := orDefault(t.coll.Key.LocationName, "key")
	w.open(keyName, t.coll.Key.NS, nil)
	w.text(k.String())
	w.close(keyName)
	w.value(orDefault(t.coll.Value.LocationName, "value"), t.coll.Value.NS, t.elem, v, t.coll.Value.TimestampFormat)
}
