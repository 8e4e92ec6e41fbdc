# Emulator gaps in kops's Terraform output, used by cluster.sh ONLY when AWS_ENDPOINT_URL is set
# (moto 5.2.1). Reads kubernetes.tf, writes a Terraform override file on stdout, and lists on
# stderr exactly what it leaves out of the apply.
#
# Gap: moto cannot launch instances from a launch template that maps an instance-store volume
# (`block_device_mappings { virtual_name = "ephemeral0" }`): run_instances fails with
# KeyError 'Ebs' (HTTP 500) and the ASG never gets its instances. The override re-declares each
# such template's block_device_mappings without the instance-store ones (an override's nested
# blocks replace the original's), so the EBS root volume and everything else stay as kops wrote them.
#
# Gap: moto keeps the template's own tags as an extra `tag_specifications { resource_type =
# "launch-template" }` in its first version, so the plan after the first apply shows a change to
# every launch template: Terraform ignores changes to tag_specifications there.
#
# Gap: moto's DescribeLifecycleHooks answers made-up notification_target_arn and role_arn values
# for hooks created without them, so every plan would show a change: the override makes Terraform
# ignore those two attributes (the hooks themselves are created as kops wrote them).
/^resource "aws_autoscaling_lifecycle_hook" "/ {
  hook = $3
  gsub(/"/, "", hook)
  printf "resource \"aws_autoscaling_lifecycle_hook\" \"%s\" {\n  lifecycle {\n    ignore_changes = [notification_target_arn, role_arn]\n  }\n}\n\n", hook
  printf "EMULATOR GAP (moto): made-up notification_target_arn/role_arn ignored on lifecycle hook %s\n", hook > "/dev/stderr"
  next
}
/^resource "aws_launch_template" "/ {
  name = $3
  gsub(/"/, "", name)
  in_template = 1; kept = ""; dropped = ""; block = ""; in_mapping = 0
  next
}
in_template && /^  block_device_mappings \{$/ { in_mapping = 1; block = $0 "\n"; virtual = 0; next }
in_template && in_mapping {
  block = block $0 "\n"
  if ($1 == "virtual_name") virtual = 1
  if ($1 == "device_name") device = $3
  if ($0 == "  }") {
    in_mapping = 0
    if (virtual) dropped = dropped (dropped == "" ? "" : ", ") device
    else kept = kept block
  }
  next
}
in_template && /^}$/ {
  in_template = 0
  printf "resource \"aws_launch_template\" \"%s\" {\n", name
  if (dropped != "") {
    printf "%s", kept
    printf "EMULATOR GAP (moto): instance-store block device mapping %s left out of launch template %s\n", dropped, name > "/dev/stderr"
  }
  printf "  lifecycle {\n    ignore_changes = [tag_specifications]\n  }\n}\n\n"
  printf "EMULATOR GAP (moto): changes to tag_specifications ignored on launch template %s\n", name > "/dev/stderr"
}
