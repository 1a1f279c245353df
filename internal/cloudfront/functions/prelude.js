// The globals CloudFront's runtimes give a function, and the restrictions
// they put on it, set up once per VM before the function's code is loaded.
// native holds the Go side: overMemory, log, crypto, encode, decode.
(function (native, v2, limit) {
	'use strict';
	var g = globalThis;

	// Dynamic code evaluation throws, as in CloudFront.
	function NoFunction() {
		throw new EvalError('Function constructor is not supported');
	}
	NoFunction.prototype = Function.prototype;
	[function () {}, async function () {}, function* () {}].forEach(function (f) {
		Object.defineProperty(Object.getPrototypeOf(f), 'constructor', {value: NoFunction, writable: true, configurable: true});
	});
	g.Function = NoFunction;
	g['eval'] = function () {
		throw new EvalError('eval is not supported');
	};

	// One call of these can allocate without bound, out of the reach of the
	// VM's interrupt: check the size they would allocate first.
	function guard(obj, name, size) {
		var orig = obj[name];
		Object.defineProperty(obj, name, {
			value: function () {
				if (size.apply(this, arguments) > limit) native.overMemory();
				return orig.apply(this, arguments);
			},
			writable: true, configurable: true,
		});
	}
	guard(String.prototype, 'repeat', function (n) { return String(this).length * n; });
	guard(String.prototype, 'padStart', function (n) { return n; });
	guard(String.prototype, 'padEnd', function (n) { return n; });
	guard(Array.prototype, 'fill', function () { return this.length * 8; });
	guard(Array.prototype, 'join', function (sep) { return this.length * (sep === undefined ? 1 : String(sep).length); });

	// A wrapper rather than a Proxy: goja's instanceof needs a function,
	// and sharing the prototype keeps [] instanceof Array true.
	function sized(name, bytesPerElement) {
		var C = g[name];
		function Sized() {
			if (typeof arguments[0] === 'number' && arguments[0] * bytesPerElement > limit) native.overMemory();
			if (!new.target) return C.apply(this, arguments);
			return Reflect.construct(C, arguments, new.target);
		}
		Object.defineProperty(Sized, 'name', {value: name});
		Sized.prototype = C.prototype;
		Object.setPrototypeOf(Sized, C);
		Object.defineProperty(C.prototype, 'constructor', {value: Sized, writable: true, configurable: true});
		g[name] = Sized;
	}
	sized('Array', 8);
	sized('ArrayBuffer', 1);
	[['Int8Array', 1], ['Uint8Array', 1], ['Uint8ClampedArray', 1], ['Int16Array', 2], ['Uint16Array', 2],
		['Int32Array', 4], ['Uint32Array', 4], ['Float32Array', 4], ['Float64Array', 8]].forEach(function (t) {
		sized(t[0], t[1]);
	});

	function show(a) {
		if (typeof a === 'string') return a;
		if (a === undefined || typeof a === 'function' || typeof a === 'symbol') return String(a);
		try {
			var s = JSON.stringify(a);
			return s === undefined ? String(a) : s;
		} catch (e) {
			return String(a);
		}
	}
	g.console = {
		log: function log() {
			native.log(Array.prototype.map.call(arguments, show).join(' '));
		},
	};

	function primitive(v) {
		switch (typeof v) {
		case 'string': return v;
		case 'number': return isFinite(v) ? String(v) : '';
		case 'bigint': return String(v);
		case 'boolean': return v ? 'true' : 'false';
		default: return '';
		}
	}
	var querystring = {
		escape: function escape(s) {
			return encodeURIComponent(s);
		},
		unescape: function unescape(s) {
			try {
				return decodeURIComponent(s);
			} catch (e) {
				return s;
			}
		},
		parse: function parse(str, sep, eq, options) {
			sep = sep || '&';
			eq = eq || '=';
			var decode = (options && options.decodeURIComponent) || querystring.unescape;
			var maxKeys = options && typeof options.maxKeys === 'number' ? options.maxKeys : 1000;
			var out = {};
			if (typeof str !== 'string' || str.length === 0) return out;
			var pairs = str.split(sep);
			if (maxKeys > 0 && pairs.length > maxKeys) pairs = pairs.slice(0, maxKeys);
			pairs.forEach(function (pair) {
				if (pair === '') return;
				var at = pair.indexOf(eq);
				var k = at >= 0 ? pair.slice(0, at) : pair;
				var v = at >= 0 ? pair.slice(at + eq.length) : '';
				k = decode(k.replace(/\+/g, ' '));
				v = decode(v.replace(/\+/g, ' '));
				if (!Object.prototype.hasOwnProperty.call(out, k)) out[k] = v;
				else if (Array.isArray(out[k])) out[k].push(v);
				else out[k] = [out[k], v];
			});
			return out;
		},
		stringify: function stringify(obj, sep, eq, options) {
			sep = sep || '&';
			eq = eq || '=';
			var encode = (options && options.encodeURIComponent) || querystring.escape;
			if (obj === null || typeof obj !== 'object') return '';
			return Object.keys(obj).map(function (k) {
				var prefix = encode(primitive(k)) + eq;
				var v = obj[k];
				if (Array.isArray(v)) {
					return v.map(function (x) { return prefix + encode(primitive(x)); }).join(sep);
				}
				return prefix + encode(primitive(v));
			}).join(sep);
		},
	};
	querystring.decode = querystring.parse;
	querystring.encode = querystring.stringify;

	var modules = {crypto: native.crypto, querystring: querystring};

	if (v2) {
		class Buffer extends Uint8Array {
			static from(v, encoding) {
				if (typeof v === 'string') return new Buffer(native.decode(v, encoding === undefined ? 'utf8' : String(encoding)));
				if (v instanceof ArrayBuffer) return new Buffer(v);
				if (v && v.type === 'Buffer' && Array.isArray(v.data)) v = v.data;
				var b = new Buffer(v.length);
				for (var i = 0; i < v.length; i++) b[i] = v[i];
				return b;
			}
			static alloc(size, fill) {
				var b = new Buffer(size);
				if (fill !== undefined) b.fill(typeof fill === 'string' ? fill.charCodeAt(0) : fill);
				return b;
			}
			static allocUnsafe(size) {
				return new Buffer(size);
			}
			static isBuffer(b) {
				return b instanceof Buffer;
			}
			static byteLength(v, encoding) {
				return typeof v === 'string' ? Buffer.from(v, encoding).length : v.byteLength;
			}
			static concat(list, total) {
				if (total === undefined) total = list.reduce(function (n, b) { return n + b.length; }, 0);
				var out = Buffer.alloc(total);
				var at = 0;
				list.forEach(function (b) {
					if (at < total) out.set(b.subarray(0, total - at), at);
					at += b.length;
				});
				return out;
			}
			toString(encoding, start, end) {
				return native.encode(this.subarray(start || 0, end === undefined ? this.length : end), encoding === undefined ? 'utf8' : String(encoding));
			}
			equals(other) {
				if (this.length !== other.length) return false;
				for (var i = 0; i < this.length; i++) if (this[i] !== other[i]) return false;
				return true;
			}
			toJSON() {
				return {type: 'Buffer', data: Array.prototype.slice.call(this)};
			}
		}
		g.Buffer = Buffer;
		modules.buffer = {Buffer: Buffer};
	}

	g.require = function require(name) {
		if (Object.prototype.hasOwnProperty.call(modules, name)) return modules[name];
		throw new Error("Cannot find module '" + name + "'");
	};
	return v2 ? g.Buffer.from : undefined;
})
