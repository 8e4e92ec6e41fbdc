# Reference configuration for the benchmark: the same shape as terraform/fabric-network (one VPC,
# three public subnets, an internet gateway, one public route table with its default route and
# associations, one security group), written as plain resources with no module, no for_each and no
# default_tags, to see what the module structure costs in plan and apply time.

terraform {
  required_version = ">= 1.7"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40"
    }
  }
}

variable "region" {
  type    = string
  default = "us-east-2"
}

provider "aws" {
  region = var.region
}

resource "aws_vpc" "ref" {
  cidr_block           = "10.20.0.0/16"
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = { Name = "bench-reference" }
}

resource "aws_subnet" "a" {
  vpc_id                  = aws_vpc.ref.id
  availability_zone       = "${var.region}a"
  cidr_block              = "10.20.0.0/19"
  map_public_ip_on_launch = true
  tags                    = { Name = "bench-reference-a" }
}

resource "aws_subnet" "b" {
  vpc_id                  = aws_vpc.ref.id
  availability_zone       = "${var.region}b"
  cidr_block              = "10.20.32.0/19"
  map_public_ip_on_launch = true
  tags                    = { Name = "bench-reference-b" }
}

resource "aws_subnet" "c" {
  vpc_id                  = aws_vpc.ref.id
  availability_zone       = "${var.region}c"
  cidr_block              = "10.20.64.0/19"
  map_public_ip_on_launch = true
  tags                    = { Name = "bench-reference-c" }
}

resource "aws_internet_gateway" "ref" {
  vpc_id = aws_vpc.ref.id
}

resource "aws_route_table" "ref" {
  vpc_id = aws_vpc.ref.id
}

resource "aws_route" "default" {
  route_table_id         = aws_route_table.ref.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.ref.id
}

resource "aws_route_table_association" "a" {
  subnet_id      = aws_subnet.a.id
  route_table_id = aws_route_table.ref.id
}

resource "aws_route_table_association" "b" {
  subnet_id      = aws_subnet.b.id
  route_table_id = aws_route_table.ref.id
}

resource "aws_route_table_association" "c" {
  subnet_id      = aws_subnet.c.id
  route_table_id = aws_route_table.ref.id
}

resource "aws_security_group" "ref" {
  name        = "bench-reference"
  description = "Benchmark reference: members reach each other, all egress"
  vpc_id      = aws_vpc.ref.id

  ingress {
    from_port = 0
    to_port   = 0
    protocol  = "-1"
    self      = true
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
