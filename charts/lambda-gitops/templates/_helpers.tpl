{{/* The chart's name, overridable. */}}
{{- define "lambda-gitops.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The full name of the release's objects: the release name, prefixed unless it holds the chart's name. */}}
{{- define "lambda-gitops.fullname" -}}
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

{{- define "lambda-gitops.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "lambda-gitops.selectorLabels" -}}
app.kubernetes.io/name: {{ include "lambda-gitops.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "lambda-gitops.labels" -}}
helm.sh/chart: {{ include "lambda-gitops.chart" . }}
{{ include "lambda-gitops.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: controller
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "lambda-gitops.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "lambda-gitops.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
"true" when leader election is on: as set, or, unset, when there is more than one replica or
more than one shard (which needs it: the schema refuses shards without it).
*/}}
{{- define "lambda-gitops.leaderElection" -}}
{{- $enabled := .Values.leaderElection.enabled }}
{{- if kindIs "invalid" $enabled }}
{{- if or (gt (int .Values.replicaCount) 1) (gt (int .Values.shards) 1) }}true{{ end }}
{{- else if $enabled }}true
{{- end }}
{{- end }}

{{/* "true" with more than one shard: a Deployment, a budget and a Lease per shard. */}}
{{- define "lambda-gitops.sharded" -}}
{{- if gt (int .Values.shards) 1 }}true{{ end }}
{{- end }}

{{/* The Deployment of a shard (dict "root" . "shard" N), or the one Deployment (shard nil). */}}
{{- define "lambda-gitops.deploymentName" -}}
{{- if kindIs "invalid" .shard }}
{{- include "lambda-gitops.fullname" .root }}
{{- else }}
{{- printf "%s-shard-%d" (include "lambda-gitops.fullname" .root) (int .shard) }}
{{- end }}
{{- end }}

{{/* Where the pod mounts things; the ConfigMap names the same paths in the configuration. */}}
{{- define "lambda-gitops.configDir" -}}/etc/lambda-gitops/config{{- end }}
{{- define "lambda-gitops.gitDir" -}}/etc/lambda-gitops/git{{- end }}
{{- define "lambda-gitops.webhookDir" -}}/etc/lambda-gitops/webhook{{- end }}
{{- define "lambda-gitops.cacheDir" -}}/var/cache/lambda-gitops{{- end }}

{{/*
The controller's configuration: values.config, plus the settings the chart owns because they
follow from the pod's port, volumes and secret mounts.
*/}}
{{- define "lambda-gitops.config" -}}
{{- $config := deepCopy .Values.config }}
{{- $_ := set $config "listen" "0.0.0.0:8080" }}
{{- $_ := set $config "cache_dir" (include "lambda-gitops.cacheDir" .) }}
{{- if .Values.git.existingSecret }}
{{- if eq .Values.git.auth "token" }}
{{- $_ := set $config "git_token_file" (printf "%s/token" (include "lambda-gitops.gitDir" .)) }}
{{- else }}
{{- $_ := set $config "git_ssh_key_file" (printf "%s/ssh-key" (include "lambda-gitops.gitDir" .)) }}
{{- $_ := set $config "git_known_hosts_file" (printf "%s/known_hosts" (include "lambda-gitops.gitDir" .)) }}
{{- end }}
{{- end }}
{{- if .Values.webhook.existingSecret }}
{{- $_ := set $config "webhook_secret_file" (printf "%s/secret" (include "lambda-gitops.webhookDir" .)) }}
{{- end }}
{{- if include "lambda-gitops.leaderElection" . }}
{{- $election := dict "enabled" true "lease_name" (include "lambda-gitops.fullname" .) }}
{{- $_ := set $election "lease_duration" .Values.leaderElection.leaseDuration }}
{{- $_ := set $election "renew_deadline" .Values.leaderElection.renewDeadline }}
{{- $_ := set $election "retry_period" .Values.leaderElection.retryPeriod }}
{{- $_ := set $config "leader_election" $election }}
{{- end }}
{{- if include "lambda-gitops.sharded" . }}
{{- $_ := set $config "shards" (int .Values.shards) }}
{{- end }}
{{- toYaml $config }}
{{- end }}
