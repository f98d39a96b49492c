'use strict';
// Envoy's own API for the xDS test clients (xds_client.js against the test
// server, envoy_like.js against `contour serve`): the type URLs, the
// discovery services as gRPC stubs, and a protobufjs root, all loaded from
// the protos @grpc/grpc-js-xds ships under deps/. The shell tests copy this
// file next to the client into the folder whose node_modules they install.

const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const DEPS = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
const INCLUDES = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) =>
  path.join(DEPS, d));

// Resource type URLs by the short names the clients use.
const T = {
  listeners: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  routes: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  clusters: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoints: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  secrets: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
  runtimes: 'type.googleapis.com/envoy.service.runtime.v3.Runtime',
};
const KEY_OF = Object.fromEntries(Object.entries(T).map(([k, v]) => [v, k]));

// The services: [gRPC client constructor, state-of-the-world method].
const pkgDef = protoLoader.loadSync([
  'envoy/service/discovery/v3/ads.proto',
  'envoy/service/cluster/v3/cds.proto',
  'envoy/service/endpoint/v3/eds.proto',
  'envoy/service/listener/v3/lds.proto',
  'envoy/service/route/v3/rds.proto',
  'envoy/service/secret/v3/sds.proto',
  'envoy/service/runtime/v3/rtds.proto',
], { keepCase: true, longs: String, enums: String, defaults: false, oneofs: true,
  includeDirs: INCLUDES });
const P = grpc.loadPackageDefinition(pkgDef).envoy.service;
const SERVICES = {
  ads: [P.discovery.v3.AggregatedDiscoveryService, 'StreamAggregatedResources'],
  clusters: [P.cluster.v3.ClusterDiscoveryService, 'StreamClusters'],
  endpoints: [P.endpoint.v3.EndpointDiscoveryService, 'StreamEndpoints'],
  listeners: [P.listener.v3.ListenerDiscoveryService, 'StreamListeners'],
  routes: [P.route.v3.RouteDiscoveryService, 'StreamRoutes'],
  secrets: [P.secret.v3.SecretDiscoveryService, 'StreamSecrets'],
  runtimes: [P.runtime.v3.RuntimeDiscoveryService, 'StreamRuntime'],
};

// A protobufjs root that finds imports in Envoy's include folders, with
// `files` loaded and resolved.
function envoyRoot(files) {
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => {
    for (const d of INCLUDES) {
      const p = path.join(d, target);
      if (fs.existsSync(p)) return p;
    }
    return protobuf.util.path.resolve(origin, target);
  };
  root.loadSync(files, { keepCase: true });
  root.resolveAll();
  return root;
}

module.exports = { INCLUDES, T, KEY_OF, SERVICES, envoyRoot };
