package filter

import "testing"

func TestPatternMatch(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pat  string
		name string
		want bool
	}{
		{"public.orders", "public.orders", true},
		{"public.orders", "public.orders2", false},
		{"public.orders", "Public.orders", false},
		{"sales.*", "sales.orders", true},
		{"sales.*", "sales.", true},
		{"sales.*", "salesx.orders", false},
		{"*.orders", "any.orders", true},
		{"*.orders", "any.orders_old", false},
		{"public.order_?", "public.order_1", true},
		{"public.order_?", "public.order_12", false},
		{"public.t[0-9]", "public.t7", true},
		{"public.t[0-9]", "public.tx", false},
		{"public.t[!0-9]", "public.tx", true},
		{"public.t[!0-9]", "public.t1", false},
		{`public.a\*b`, "public.a*b", true},
		{`public.a\*b`, "public.axb", false},
		{"public.a.b*", "public.a.bc", true},
		{"public.a.b*", "public.aXbc", false}, // '.' is literal in globs
		{`re:public\.orders_\d+`, "public.orders_2024", true},
		{`re:public\.orders_\d+`, "public.orders_2024x", false}, // anchored
		{`re:public\.orders_\d+`, "xpublic.orders_1", false},
		{`re:(public|sales)\.o.*`, "sales.orders", true},
	}
	for _, c := range cases {
		p, err := compilePattern(c.pat, true)
		if err != nil {
			t.Errorf("compile %q: %v", c.pat, err)
			continue
		}
		if got := p.match(c.name); got != c.want {
			t.Errorf("%q matches %q = %v, want %v", c.pat, c.name, got, c.want)
		}
	}
}

func TestPatternErrors(t *testing.T) {
	t.Parallel()
	for _, src := range []string{"", "orders", ".orders", "public.", "public.t[0-9", "public.t[]", `public.t\`, "re:", "re:(", "re:a{2,1}", "public.t[z-a]"} {
		if p, err := compilePattern(src, true); err == nil {
			t.Errorf("compile %q: no error (kind %d)", src, p.kind)
		}
	}
}

func TestPatternCovers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		p, q string
		want bool
	}{
		{"public.orders", "public.orders", true},
		{"public.*", "public.orders", true},
		{"*.*", "sales.ord*", true},
		{"sales.*", "sales.ord*", true},
		{"sales.ord*", "sales.*", false},
		{"public.orders", "public.*", false},
		{"public.a?", "public.a*", false},
		{`re:public\..*`, "public.orders", true},
		{`re:public\..*`, "public.o*", false}, // cannot tell: conservative
		{"public.*", `re:public\.x`, false},
	}
	for _, c := range cases {
		p, _ := compilePattern(c.p, true)
		q, _ := compilePattern(c.q, true)
		if got := p.covers(q); got != c.want {
			t.Errorf("%q covers %q = %v, want %v", c.p, c.q, got, c.want)
		}
	}
}
