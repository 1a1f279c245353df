package functions

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"strings"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// hashes are the algorithms CloudFront's crypto module offers.
var hashes = map[string]func() hash.Hash{
	"md5":    md5.New,
	"sha1":   sha1.New,
	"sha256": sha256.New,
}

// cryptoModule is require('crypto'): createHash and createHmac, which
// behave as Node's.
func (m *machine) cryptoModule() *goja.Object {
	module := m.vm.NewObject()
	module.Set("createHash", func(call goja.FunctionCall) goja.Value {
		return m.digester(m.newHash(call.Argument(0), nil))
	})
	module.Set("createHmac", func(call goja.FunctionCall) goja.Value {
		key := m.bytes(call.Argument(1), goja.Undefined())
		return m.digester(m.newHash(call.Argument(0), key))
	})
	return module
}

func (m *machine) newHash(algorithm goja.Value, hmacKey []byte) hash.Hash {
	newHash, ok := hashes[strings.ToLower(algorithm.String())]
	if !ok {
		panic(m.vm.NewTypeError("Digest method not supported"))
	}
	if hmacKey != nil {
		return hmac.New(newHash, hmacKey)
	}
	return newHash()
}

// digester is a Hash or Hmac object: update(data[, encoding]) and
// digest([encoding]).
func (m *machine) digester(h hash.Hash) *goja.Object {
	o := m.vm.NewObject()
	o.Set("update", func(call goja.FunctionCall) goja.Value {
		h.Write(m.bytes(call.Argument(0), call.Argument(1)))
		return o
	})
	o.Set("digest", func(call goja.FunctionCall) goja.Value {
		sum := h.Sum(nil)
		if enc := call.Argument(0); !goja.IsUndefined(enc) {
			return m.vm.ToValue(encodeBytes(m.vm, sum, enc.String()))
		}
		// Without an encoding, runtime 2.0 returns a Buffer and runtime 1.0
		// a byte string.
		if m.v2 {
			b, err := m.bufferFrom(goja.Undefined(), m.vm.ToValue(m.vm.NewArrayBuffer(sum)))
			if err != nil {
				panic(err)
			}
			return b
		}
		return m.vm.ToValue(encodeBytes(m.vm, sum, "latin1"))
	})
	return o
}

// bytes is data as a hash or a Buffer takes it: a string in encoding
// (UTF-8 by default), or the bytes of a Buffer or typed array.
func (m *machine) bytes(data, encoding goja.Value) []byte {
	if o, ok := data.(*goja.Object); ok {
		var b []byte
		if err := m.vm.ExportTo(o, &b); err == nil {
			return b
		}
	}
	enc := "utf8"
	if !goja.IsUndefined(encoding) {
		enc = encoding.String()
	}
	return decodeString(m.vm, data.String(), enc)
}

// encode is Buffer's toString: native.encode(uint8Array, encoding).
func (m *machine) encode(call goja.FunctionCall) goja.Value {
	return m.vm.ToValue(encodeBytes(m.vm, m.bytes(call.Argument(0), goja.Undefined()), call.Argument(1).String()))
}

// decode is Buffer.from(string, encoding): native.decode returns an
// ArrayBuffer.
func (m *machine) decode(call goja.FunctionCall) goja.Value {
	return m.vm.ToValue(m.vm.NewArrayBuffer(decodeString(m.vm, call.Argument(0).String(), call.Argument(1).String())))
}

func encodeBytes(vm *goja.Runtime, b []byte, encoding string) string {
	switch strings.ToLower(encoding) {
	case "utf8", "utf-8":
		return strings.ToValidUTF8(string(b), "\uFFFD")
	case "hex":
		return hex.EncodeToString(b)
	case "base64":
		return base64.StdEncoding.EncodeToString(b)
	case "base64url":
		return base64.RawURLEncoding.EncodeToString(b)
	case "latin1", "binary", "ascii":
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r)
	}
	panic(vm.NewTypeError("Unknown encoding: " + encoding))
}

func decodeString(vm *goja.Runtime, s, encoding string) []byte {
	switch strings.ToLower(encoding) {
	case "utf8", "utf-8":
		return []byte(s)
	case "hex":
		b, _ := hex.DecodeString(s[:len(s)&^1])
		return b
	case "base64", "base64url":
		// Node accepts either alphabet, with or without padding.
		s = strings.TrimRight(strings.NewReplacer("-", "+", "_", "/").Replace(s), "=")
		b, _ := base64.RawStdEncoding.DecodeString(s)
		return b
	case "latin1", "binary", "ascii":
		b := make([]byte, 0, utf8.RuneCountInString(s))
		for _, r := range s {
			b = append(b, byte(r))
		}
		return b
	}
	panic(vm.NewTypeError("Unknown encoding: " + encoding))
}
