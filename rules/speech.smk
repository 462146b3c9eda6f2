# Stage rules: see docs/data_contract.md
