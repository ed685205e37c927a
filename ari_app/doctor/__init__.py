"""What `secretary doctor` checks: configuration and models, the PBX over AMI, the GSM modems."""
