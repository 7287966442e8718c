// Torch tests share one native runtime and its thread pool; running them in parallel on a 2-core
// machine only adds contention and makes tensor-count assertions meaningless.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
