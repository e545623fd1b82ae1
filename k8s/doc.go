// Package k8s runs a spike scenario as shards on a Kubernetes Indexed Job:
// it builds the manifests (a ConfigMap holding the scenario and an Indexed
// Job with one pod per shard, all starting at one instant), runs them
// through the Kubernetes API, and collects each shard's result from its
// pod's log, where `spike run --print-result` writes it between marker
// lines. Kubernetes does the scheduling; spike does only the split, the
// shared start and the merge.
package k8s
