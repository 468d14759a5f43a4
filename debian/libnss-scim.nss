passwd after=files scim
group after=files scim
