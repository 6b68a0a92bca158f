{{/* The chart's name, or nameOverride. Kubernetes names are at most 63 characters (DNS labels). */}}
{{- define "kosha.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: the release name alone when it already contains the chart's name. */}}
{{- define "kosha.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The labels that select the pods: stable over upgrades (a Deployment's selector cannot change). */}}
{{- define "kosha.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kosha.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "kosha.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "kosha.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "kosha.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "kosha.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The port the service listens on in the container (PORT); the Service's port is service.port. */}}
{{- define "kosha.containerPort" -}}8000{{- end }}

{{/* "true" when the pods serve HTTPS: the probes, REPLICA_URL and the ingress's backend protocol follow it. */}}
{{- define "kosha.https" -}}
{{- if .Values.https.enabled }}true{{ end }}
{{- end }}

{{/*
The credentials the chart puts in the Secret it creates, by variable name (the Secret's keys are the names):
only those given, so that an empty value leaves its variable unset rather than set to "".
*/}}
{{- define "kosha.createdCredentials" -}}
{{- $c := .Values.credentials }}
{{- $given := dict }}
{{- range $key, $value := dict "USERNAME" $c.username "PASSWORD" $c.password "API_KEYS" $c.apiKeys "BASIC_AUTH_USERS" $c.basicAuthUsers "SCHEMA_REGISTRY_USERNAME" $c.schemaRegistryUsername "SCHEMA_REGISTRY_PASSWORD" $c.schemaRegistryPassword }}
{{- if $value }}{{ $_ := set $given $key $value }}{{ end }}
{{- end }}
{{- toJson $given }}
{{- end }}

{{/* The Secret the pods read credentials from: the existing one, the created one, or "" for none. */}}
{{- define "kosha.credentialsSecret" -}}
{{- if .Values.credentials.existingSecret }}
{{- .Values.credentials.existingSecret }}
{{- else if ne (include "kosha.createdCredentials" .) "{}" }}
{{- include "kosha.fullname" . }}
{{- end }}
{{- end }}

{{/* Whether a PodDisruptionBudget is rendered: with a single replica, maxUnavailable 1 would protect nothing. */}}
{{- define "kosha.pdb" -}}
{{- $pdb := .Values.podDisruptionBudget }}
{{- $many := or (gt (int .Values.replicaCount) 1) (and .Values.autoscaling.enabled (gt (int .Values.autoscaling.maxReplicas) 1)) }}
{{- if and $pdb.enabled (or $many $pdb.force) }}true{{ end }}
{{- end }}

{{/*
An env value as the service reads it. Helm reads the numbers of a values file as float64, which would print
2147483648 as "2.147483648e+09": whole numbers are printed as integers, anything else as it is.
*/}}
{{- define "kosha.envValue" -}}
{{- if and (kindIs "float64" .) (eq . (floor .)) }}{{ int64 . }}{{ else }}{{ . }}{{ end }}
{{- end }}

{{/*
The variables the chart sets itself, each with where its value comes from: env may not repeat them, so that no
setting has two places (e.g. BODY_LIMIT and the ingress's proxy-body-size stay equal).
*/}}
{{- define "kosha.managedEnv" -}}
{{- toJson (dict
  "BROKER_ADDRESS" "set kafka.brokerAddress"
  "STATE_TOPIC" "set kafka.stateTopic"
  "PORT" "always 8000, the container's port"
  "POD_IP" "from the downward API, for REPLICA_URL"
  "REPLICA_URL" "from the pod's IP"
  "SHUTDOWN_GRACE_MS" "set shutdown.graceSeconds"
  "BODY_LIMIT" "set bodyLimitBytes"
  "USERNAME" "set credentials.username or credentials.existingSecret"
  "PASSWORD" "set credentials.password or credentials.existingSecret"
  "API_KEYS" "set credentials.apiKeys or credentials.existingSecret"
  "BASIC_AUTH_USERS" "set credentials.basicAuthUsers or credentials.existingSecret"
  "SCHEMA_REGISTRY_URL" "set schemaRegistry.url"
  "SCHEMA_REGISTRY_USERNAME" "set credentials.schemaRegistryUsername or credentials.existingSecret"
  "SCHEMA_REGISTRY_PASSWORD" "set credentials.schemaRegistryPassword or credentials.existingSecret"
  "HTTPS_CERT_FILE" "set https.enabled and https.secretName"
  "HTTPS_KEY_FILE" "set https.enabled and https.secretName") }}
{{- end }}
