package javaser

// Walk calls fn for every node of s in stream order, with the node's
// path. It does not follow references (a *Ref is visited, its target is
// not visited again). If fn returns false, Walk does not descend into
// that node's children. Class descriptors are visited too (their type
// strings and annotations under a PathDesc element).
func Walk(s *Stream, fn func(path Path, n Node) bool) {
	w := walker{fn: fn}
	for i, n := range s.Contents {
		w.path = append(w.path[:0], PathElem{Kind: PathRoot, Index: i, Name: rootName(n)})
		w.node(n)
	}
}

// WalkNode is Walk for a single node, with path as the node's own path.
func WalkNode(n Node, path Path, fn func(path Path, n Node) bool) {
	w := walker{fn: fn, path: append(Path(nil), path...)}
	w.node(n)
}

func rootName(n Node) string {
	switch n := n.(type) {
	case *Object:
		return simpleName(n.ClassName())
	case *Array:
		return simpleName(descName(n.Desc))
	}
	return KindOf(n)
}

type walker struct {
	fn   func(Path, Node) bool
	path Path
}

func (w *walker) child(e PathElem, n Node) {
	w.path = append(w.path, e)
	w.node(n)
	w.path = w.path[:len(w.path)-1]
}

func (w *walker) node(n Node) {
	if n == nil || !w.fn(w.path, n) {
		return
	}
	switch n := n.(type) {
	case *ClassDesc:
		name := n.Name()
		for i := range n.Fields {
			if f := n.Fields[i].ClassName; f != nil {
				w.child(PathElem{Kind: PathDesc, Name: name + "." + n.Fields[i].Name()}, f)
			}
		}
		for i, a := range n.Annotation {
			w.path = append(w.path, PathElem{Kind: PathDesc, Name: name})
			w.child(PathElem{Kind: PathData, Index: i}, a)
			w.path = w.path[:len(w.path)-1]
		}
		if n.Super != nil {
			w.child(PathElem{Kind: PathDesc, Name: name + " super"}, n.Super)
		}
	case *Object:
		w.desc(n.Desc)
		for i := range n.Data {
			cd := &n.Data[i]
			for j, v := range cd.Values {
				if v.Obj != nil && j < len(cd.Class.Fields) {
					w.child(PathElem{Kind: PathField, Name: cd.Class.Fields[j].Name()}, v.Obj)
				}
			}
			for j, a := range cd.Annotation {
				w.child(PathElem{Kind: PathData, Index: j}, a)
			}
			for j, a := range cd.External {
				w.child(PathElem{Kind: PathData, Index: j}, a)
			}
		}
	case *Array:
		w.desc(n.Desc)
		for i, e := range n.Elems {
			w.child(PathElem{Kind: PathIndex, Index: i}, e)
		}
	case *Enum:
		w.desc(n.Desc)
		w.child(PathElem{Kind: PathField, Name: "name"}, n.Constant)
	case *Class:
		w.desc(n.Desc)
	case *Exception:
		w.child(PathElem{Kind: PathField, Name: "throwable"}, n.Throwable)
	}
}

// desc visits a descriptor defined in place (references are not descended).
func (w *walker) desc(n Node) {
	if c, ok := n.(*ClassDesc); ok {
		w.child(PathElem{Kind: PathDesc, Name: c.Name()}, c)
	}
}
