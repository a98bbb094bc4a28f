/**
 * Node.js flags for the processes that serve (workers and HTTP frontends).
 *
 * `--initial-old-space-size=64`: a serving process keeps a few MB of requests in flight while
 * it allocates tens of MB per second of buffers outside the JS heap (decoded images, tensors,
 * socket reads). Each buffer allocation hurries a scavenge, which moves the requests still in
 * flight into the old generation; V8 sizes that generation from the small live heap at start,
 * so it then collects it several times a second (about 5 full collections per second in an image
 * worker at 900 images/s, 8 ms each). Starting the old generation at 64 MB lets it grow first:
 * one or two full collections in the same time, 5% more images per second, at the cost of up to
 * about 64 MB more resident memory per process.
 */
export const SERVING_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=64'];
