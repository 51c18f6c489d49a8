package check

import (
	"hash/fnv"
	"slices"
)

// collection is the state of the set and append models: a persistent list
// of the elements in the order they were added, each node sharing its
// predecessor. Adding is O(1) and never copies, which matters because
// Porcupine keeps every state it visits; a copied slice per step made a few
// thousand operations on one key quadratic. The node caches the length and a
// digest of the contents, so most comparisons are O(1) and only a digest
// match walks the lists. The nil *collection is the empty one.
type collection struct {
	prev   *collection
	elem   string
	n      int
	digest uint64
}

// elemHash is an element's hash, computed once per operation.
func elemHash(e string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(e))
	return h.Sum64()
}

// orderedDigest extends the digest of a list by one element; the result
// depends on the order of elements.
func orderedDigest(d, elemHash uint64) uint64 {
	d ^= elemHash
	d *= 0x100000001b3 // FNV-64 prime: mixes, so order matters
	return d ^ d>>29
}

func (c *collection) len() int {
	if c == nil {
		return 0
	}
	return c.n
}

func (c *collection) hash() uint64 {
	if c == nil {
		return 0
	}
	return c.digest
}

// appended is the list with e at its end.
func (c *collection) appended(e string, h uint64) *collection {
	return &collection{prev: c, elem: e, n: c.len() + 1, digest: orderedDigest(c.hash(), h)}
}

// added is the set with e in it. Its digest is the XOR of its elements'
// hashes, which does not depend on the order of adds. mayHold says whether
// e may already be in the set (some other operation adds it too); only then
// does adding walk the set to keep it duplicate-free.
func (c *collection) added(e string, h uint64, mayHold bool) *collection {
	if mayHold && c.contains(e) {
		return c
	}
	return &collection{prev: c, elem: e, n: c.len() + 1, digest: c.hash() ^ h}
}

func (c *collection) contains(e string) bool {
	for ; c != nil; c = c.prev {
		if c.elem == e {
			return true
		}
	}
	return false
}

// elems lists the elements in the order they were added.
func (c *collection) elems() []string {
	out := make([]string, c.len())
	for i := len(out) - 1; c != nil; i, c = i-1, c.prev {
		out[i] = c.elem
	}
	return out
}

// equalList reports whether a list state holds exactly list (whose ordered
// digest is d), in order.
func (c *collection) equalList(list []string, d uint64) bool {
	if c.len() != len(list) || c.hash() != d {
		return false
	}
	for i := len(list) - 1; c != nil; i, c = i-1, c.prev {
		if c.elem != list[i] {
			return false
		}
	}
	return true
}

// equalSet reports whether a set state holds exactly the elements of a
// sorted, duplicate-free read whose XOR digest is d.
func (c *collection) equalSet(sorted []string, d uint64) bool {
	if c.len() != len(sorted) || c.hash() != d {
		return false
	}
	for ; c != nil; c = c.prev {
		if _, found := slices.BinarySearch(sorted, c.elem); !found {
			return false
		}
	}
	return true
}

// sameList compares two list states.
func sameList(a, b *collection) bool {
	if a.len() != b.len() || a.hash() != b.hash() {
		return false
	}
	for ; a != b; a, b = a.prev, b.prev { // shared tails end the walk early
		if a.elem != b.elem {
			return false
		}
	}
	return true
}

// sameSet compares two set states.
func sameSet(a, b *collection) bool {
	if a == b {
		return true
	}
	if a.len() != b.len() || a.hash() != b.hash() {
		return false
	}
	members := make(map[string]bool, a.len())
	for c := a; c != nil; c = c.prev {
		members[c.elem] = true
	}
	for c := b; c != nil; c = c.prev {
		if !members[c.elem] {
			return false
		}
	}
	return true
}

// readDigests precomputes what the models compare a set or append read
// against: the ordered digest of an append read; for a set read (sorted),
// the XOR digest of its elements and whether it repeated one.
func readDigests(out *output, set bool) {
	var d uint64
	for i, e := range out.list {
		if !set {
			d = orderedDigest(d, elemHash(e))
			continue
		}
		if i > 0 && out.list[i-1] == e {
			out.repeats = true
			continue
		}
		d ^= elemHash(e)
	}
	out.digest = d
}

// sortedElems lists a set state's elements in order, for descriptions.
func sortedElems(c *collection) []string {
	out := c.elems()
	slices.Sort(out)
	return out
}
