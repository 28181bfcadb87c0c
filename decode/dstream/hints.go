package dstream

import (
	"regexp"
	"strings"

	"github.com/sparkckpt/sparkckpt/decode/javaser"
)

// scalaHint tells the Scala version from what the compiler and library
// leave in the stream (spec §3.4, §4.7).
func scalaHint(s *javaser.Stream) string {
	var sawProxy213, sawLambda, mangledDuration, plainDuration, someX, someValue, anonfun bool
	javaser.Walk(s, func(p javaser.Path, n javaser.Node) bool {
		c, ok := n.(*javaser.ClassDesc)
		if !ok {
			return true
		}
		switch name := c.Name(); {
		case name == "scala.collection.generic.DefaultSerializationProxy" || name == "scala.runtime.ModuleSerializationProxy":
			sawProxy213 = true
		case name == "java.lang.invoke.SerializedLambda":
			sawLambda = true
		case name == "scala.Some":
			for i := range c.Fields {
				switch c.Fields[i].Name() {
				case "x":
					someX = true
				case "value":
					someValue = true
				}
			}
		case name == "org.apache.spark.streaming.Duration":
			for i := range c.Fields {
				switch c.Fields[i].Name() {
				case "millis":
					plainDuration = true
				case "org$apache$spark$streaming$Duration$$millis":
					mangledDuration = true
				}
			}
		case strings.Contains(name, "$$anonfun$"):
			anonfun = true
		}
		return true
	})
	switch {
	case sawProxy213:
		return "2.13 (DefaultSerializationProxy/ModuleSerializationProxy)"
	case plainDuration:
		return "2.10 (Duration.millis not mangled)"
	case someX && mangledDuration:
		return "2.11 (scala.Some.x, mangled Duration.millis)"
	case someValue:
		return "2.12 (scala.Some.value)"
	case anonfun && mangledDuration:
		return "2.11 ($$anonfun$ classes)"
	case sawLambda:
		return "2.12+ (SerializedLambda)"
	}
	return ""
}

// sparkDistPath matches Spark install paths: spark-2.1.0-bin-hadoop2.7, Homebrew apache-spark/2.2.0.
var sparkDistPath = regexp.MustCompile(`(?:spark-|apache-spark/)(\d+\.\d+\.\d+)(?:-bin-|/)`)

// sparkHint tells the Spark version: from a distribution path in the conf
// or the Python paths, else from the model's shape (spec §4.1, §4.3).
func sparkHint(cp *Checkpoint, s *javaser.Stream) string {
	for _, p := range cp.Conf {
		if m := sparkDistPath.FindStringSubmatch(p.Value); m != nil {
			return m[1] + " (path in conf " + p.Key + ")"
		}
	}
	for _, st := range cp.Graph.Streams {
		for _, f := range st.Functions {
			if f.Python == nil {
				continue
			}
			for _, ps := range f.Python.Strings {
				if m := sparkDistPath.FindStringSubmatch(ps.Value); m != nil {
					return m[1] + " (path in a pickled Python function)"
				}
			}
		}
	}
	switch {
	case cp.DelaySeconds != nil:
		return "1.x (Checkpoint.delaySeconds, removed in 2.0)"
	case usesClass(s, "scala.collection.mutable.ArraySeq") || usesClass(s, "scala.collection.mutable.ArraySeq$ofRef"):
		return "3.1+ (DStreamGraph uses ArraySeq)"
	case cp.Graph.NumReceivers != nil:
		return "2.2-3.0 (DStreamGraph.numReceivers with ArrayBuffer)"
	}
	return "2.0-2.1 (no DStreamGraph.numReceivers)"
}

func usesClass(s *javaser.Stream, name string) bool {
	found := false
	javaser.Walk(s, func(p javaser.Path, n javaser.Node) bool {
		if c, ok := n.(*javaser.ClassDesc); ok && c.Name() == name {
			found = true
		}
		return !found
	})
	return found
}
